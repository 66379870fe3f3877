from django.urls import path

from volumes import views

app_name = "volumes"
urlpatterns = [
    path("", views.volume_list, name="list"),
    path("create/", views.volume_create, name="create"),
    path("<uuid:volume_id>/", views.volume_detail, name="detail"),
    path("<uuid:volume_id>/live/", views.volume_live, name="live"),
]
