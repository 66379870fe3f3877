from django.urls import path

from scheduler import views

app_name = "scheduler"
urlpatterns = [
    path("what-if/", views.what_if, name="what-if"),
    path("pools/", views.pool_list, name="pools"),
    path("backends/<str:host>/disable/", views.backend_disable, name="disable"),
    path("backends/<str:host>/enable/", views.backend_enable, name="enable"),
]
