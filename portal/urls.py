from django.contrib import admin
from django.urls import include, path, re_path

from portal import views
from volumes.rest.versions import root, version_document

urlpatterns = [
    # `/` is the dashboard for browsers and Cinder's version document for API clients.
    path("", root, name="home"),
    re_path(r"^v3$", version_document),
    path("v3/", include("volumes.rest.urls")),
    path("identity/", include("portal.identity.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("volumes/", include("volumes.urls")),
    path("backends/", include("agent.urls")),
    path("scheduler/", include("scheduler.urls")),
    path("admin/", admin.site.urls),
]
