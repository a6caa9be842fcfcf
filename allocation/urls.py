"""Pages of the allocation app (round progress and results)."""
from django.urls import path

from allocation import views

urlpatterns = [
    path("rounds/<int:round_id>/", views.round_detail, name="round-detail"),
    path("rounds/<int:round_id>/solve/", views.round_solve, name="round-solve"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run-progress"),
]
