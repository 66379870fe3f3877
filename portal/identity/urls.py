from django.urls import path, re_path

from portal.identity import projects, views

app_name = "identity"
urlpatterns = [
    path("", views.versions, name="versions"),
    re_path(r"^v3/?$", views.v3_root, name="v3"),
    path("v3/auth/tokens", views.auth_tokens, name="tokens"),
    path("v3/domains", projects.domains, name="domains"),
    path("v3/projects", projects.projects, name="projects"),
    path("v3/projects/<str:project_id>", projects.project, name="project"),
    re_path(r"^.*$", views.not_found, name="not-found"),
]
