from django.urls import path

from agent import views

app_name = "agent"
urlpatterns = [
    path("", views.backend_list, name="backends"),
    path("<int:backend_id>/faults/", views.fault_add, name="fault-add"),
    path("faults/<int:fault_id>/clear/", views.fault_clear, name="fault-clear"),
    path("faults/<int:fault_id>/remove/", views.fault_remove, name="fault-remove"),
]
