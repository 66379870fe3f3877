"""Quota in the admin: the defaults class, per-project limits with usage, usages, reservations.

Limits are checked as Cinder's ``PUT os-quota-sets`` checks them (known
resource, -1..DB_MAX_INT, not below what is in use and reserved), and every
change nudges open create forms so their bars follow.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.cinder import exceptions, quota
from core.cinder.models import Project
from core.cinder.quota_models import QuotaClass, QuotaLimit, QuotaUsage, Reservation
from core.kernel.numbers import ascii_int


def _resource_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in quota.resource_names()]


class QuotaClassForm(forms.ModelForm):
    class Meta:
        model = QuotaClass
        fields = ["class_name", "resource", "hard_limit"]

    def clean(self):
        data = super().clean()
        resource = data.get("resource") or self.instance.resource
        if data.get("hard_limit") is not None:
            try:
                quota.validate_limit(None, resource, data["hard_limit"])
            except exceptions.InvalidInput as error:
                raise forms.ValidationError(str(error)) from error
        return data


class QuotaLimitForm(forms.ModelForm):
    resource = forms.ChoiceField(choices=_resource_choices)

    class Meta:
        model = QuotaLimit
        fields = ["project", "resource", "hard_limit"]

    def clean(self):
        data = super().clean()
        project = data.get("project") or getattr(self.instance, "project", None)
        resource = data.get("resource") or self.instance.resource
        if project is not None and data.get("hard_limit") is not None:
            try:
                quota.validate_limit(project.pk, resource, data["hard_limit"])
            except exceptions.InvalidInput as error:
                raise forms.ValidationError(str(error)) from error
        return data


@admin.register(QuotaClass)
class QuotaClassAdmin(admin.ModelAdmin):
    """The ``default`` class: every resource listed, its limit editable in place."""

    form = QuotaClassForm
    list_display = ["resource", "class_name", "hard_limit", "builtin_default"]
    list_editable = ["hard_limit"]
    list_filter = ["class_name"]
    ordering = ["class_name", "resource"]

    @admin.display(description="built-in default")
    def builtin_default(self, row: QuotaClass) -> int:
        return quota.builtin_default(row.resource)

    def get_changelist_form(self, request, **kwargs):
        return QuotaClassForm

    def changelist_view(self, request, extra_context=None):
        # Seed missing resources (new volume types) so each default is editable.
        quota.ensure_default_class()
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        quota.nudge(QuotaUsage.objects.values_list("project_id", flat=True).distinct())


@admin.register(QuotaLimit)
class QuotaLimitAdmin(admin.ModelAdmin):
    """Project overrides, shown with what each project uses; one page per project too."""

    form = QuotaLimitForm
    list_display = ["project", "resource", "hard_limit", "in_use", "reserved", "all_limits"]
    list_filter = ["project"]
    list_editable = ["hard_limit"]

    def get_changelist_form(self, request, **kwargs):
        return QuotaLimitForm

    def _usage(self, row: QuotaLimit) -> QuotaUsage | None:
        return QuotaUsage.objects.filter(project_id=row.project_id, resource=row.resource).first()

    @admin.display(description="in use")
    def in_use(self, row: QuotaLimit) -> int:
        usage = self._usage(row)
        return usage.in_use if usage else 0

    @admin.display(description="reserved")
    def reserved(self, row: QuotaLimit) -> int:
        usage = self._usage(row)
        return usage.reserved if usage else 0

    @admin.display(description="project quotas")
    def all_limits(self, row: QuotaLimit) -> str:
        url = reverse("admin:cinder_project_quotas", args=[row.project_id])
        return format_html('<a href="{}">all limits of {}</a>', url, row.project)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        quota.nudge([obj.project_id])

    def get_urls(self):
        view = self.admin_site.admin_view(self.project_quotas_view)
        return [
            path("project/<str:project_id>/", view, name="cinder_project_quotas"),
            *super().get_urls(),
        ]

    def project_quotas_view(self, request, project_id: str):
        """Every resource of one project: limit (and where it comes from), in use, reserved.

        Limits are edited in one form; an empty field drops the override so the
        default applies again (Cinder's ``DELETE os-quota-sets``).
        """
        may = self.has_change_permission if request.method == "POST" else self.has_view_permission
        if not may(request):
            raise PermissionDenied
        project = get_object_or_404(Project, pk=project_id)
        summary = quota.usage_summary(project.pk)
        overrides = dict(
            QuotaLimit.objects.filter(project=project).values_list("resource", "hard_limit")
        )
        defaults = quota.default_limits()
        if request.method == "POST":
            errors = self._save_limits(request, project, overrides)
            if not errors:
                messages.success(request, f"Limits of {project} saved.")
                return redirect(request.path)
            for error in errors:
                messages.error(request, error)
        rows = [
            {
                "resource": resource,
                "limit": values["limit"],
                "override": overrides.get(resource),
                "default": defaults[resource],
                "in_use": values["in_use"],
                "reserved": values["reserved"],
            }
            for resource, values in summary.items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Quotas of project {project}",
            "project": project,
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/cinder/project_quotas.html", context)

    def _save_limits(self, request, project, overrides: dict) -> list[str]:
        errors = []
        for resource in quota.resource_names():
            raw = request.POST.get(f"limit-{resource}", "").strip()
            if raw == "" and resource in overrides:
                QuotaLimit.objects.filter(project=project, resource=resource).delete()
                quota.nudge([project.pk])
            elif raw != "" and ascii_int(raw.removeprefix("-")) is None:
                errors.append(f"{resource}: '{raw}' is not an integer.")
            elif raw != "" and int(raw) != overrides.get(resource):
                try:
                    quota.set_limit(project.pk, resource, int(raw))
                except exceptions.InvalidInput as error:
                    errors.append(str(error))
        return errors


@admin.register(QuotaUsage)
class QuotaUsageAdmin(admin.ModelAdmin):
    """Usage is the engine's: view it here, repair drift with ``manage.py quota_check --sync``."""

    list_display = ["project", "resource", "limit", "in_use", "reserved", "updated_at"]
    list_filter = ["project"]
    search_fields = ["resource", "project__name"]

    @admin.display(description="limit")
    def limit(self, row: QuotaUsage) -> str:
        value = quota.get_limits(row.project_id).get(row.resource, -1)
        url = reverse("admin:cinder_project_quotas", args=[row.project_id])
        return format_html('<a href="{}">{}</a>', url, "unlimited" if value < 0 else value)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "resource", "delta", "expire", "created_at"]
    list_filter = ["project", "resource"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
