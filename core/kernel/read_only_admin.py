"""The admin of records the simulation writes (flow runs, traces, reports, messages...).

They are history: an admin reads them, never adds, edits or deletes one by hand (a hand-made
flow run or pool would show the learner something that did not happen).
"""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
