from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from portal import views
from volumes.rest.versions import version_document

# Admin pages of models that moved to core.cinder, core.kernel and agent keep their old
# addresses (bookmarks) as redirects: (old app, its models, new app).
MOVED_ADMIN = [
    ("volumes", r"[a-z]+", "cinder"),
    ("portal", "project|membership|token", "cinder"),
    ("portal", "service|flowrun|taskrun", "kernel"),
    ("scheduler", "fleetpool", "agent"),
]
old_admin_paths = [
    re_path(
        rf"^admin/{old}/(?P<model>{models})/(?P<rest>.*)$",
        RedirectView.as_view(url=f"/admin/{new}/%(model)s/%(rest)s", query_string=True),
    )
    for old, models, new in MOVED_ADMIN
]

urlpatterns = [
    # `/` is the dashboard for browsers and Cinder's version document for API clients.
    path("", views.root, name="home"),
    re_path(r"^v3$", version_document),
    path("v3/", include("volumes.rest.urls")),
    path("identity/", include("portal.identity.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("start/<slug:name>/", views.start_scenario, name="start-scenario"),
    # Django's auth URLs without password reset: no mail is configured to send it.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("volumes/", include("volumes.urls")),
    path("backends/", include("agent.urls")),
    path("scheduler/", include("scheduler.urls")),
    *old_admin_paths,
    path("admin/", admin.site.urls),
]
