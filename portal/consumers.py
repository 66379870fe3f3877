"""``/ws/dashboard/``: the dashboard's live picture (see :mod:`core.kernel.live`)."""

from django.template.loader import render_to_string

from core.cinder.access import projects_of
from core.kernel import events
from core.kernel.live import LiveConsumer
from portal.dashboard import dashboard_context

# The dashboard also shows things that change without a nudge (RQ queue
# depths, heartbeat ages, host stats): it re-renders at least this often.
DASHBOARD_REFRESH_SECONDS = 3.0


class DashboardConsumer(LiveConsumer):
    """``/ws/dashboard/``: the user's projects (every project, for admins)."""

    refresh_seconds = DASHBOARD_REFRESH_SECONDS

    def authorise(self) -> list[str] | None:
        if self.user.is_superuser:
            return [events.FLEET_GROUP]
        return [events.project_group(p.pk) for p in projects_of(self.user)]

    def render(self) -> str | None:
        context = dashboard_context(self.user) | {"oob": True}
        return render_to_string("portal/_dashboard_live.html", context)
