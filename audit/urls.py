"""Pages of the audit trail, included by alliance/urls.py at ""."""
from django.urls import path

from audit import views

urlpatterns = [
    path("audit/", views.entry_list, name="audit-list"),
    path("audit/verify/", views.verify, name="audit-verify"),
    path("audit/<str:object_type>/<str:object_id>/", views.object_history, name="audit-object"),
]
