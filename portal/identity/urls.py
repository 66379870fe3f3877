from django.urls import path, re_path

from portal.identity import views

app_name = "identity"
urlpatterns = [
    path("", views.versions, name="versions"),
    re_path(r"^v3/?$", views.v3_root, name="v3"),
    path("v3/auth/tokens", views.auth_tokens, name="tokens"),
    re_path(r"^.*$", views.not_found, name="not-found"),
]
