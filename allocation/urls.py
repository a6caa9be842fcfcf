"""Pages of the allocation app (round progress and results)."""
from django.urls import path

from allocation import views

urlpatterns = [
    path("rounds/<int:round_id>/", views.round_detail, name="round-detail"),
    path("rounds/<int:round_id>/solve/", views.round_solve, name="round-solve"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run-progress"),
]

# The ministry portal
from allocation.views import ministry as ministry_views  # noqa: E402

urlpatterns += [
    path("ministry/", ministry_views.ministry_home, name="ministry-home"),
    path("ministry/rounds/<int:round_id>/requests/new/", ministry_views.request_new, name="ministry-request-new"),
    path("ministry/requests/<int:request_id>/", ministry_views.request_detail, name="ministry-request-detail"),
    path("ministry/requests/<int:request_id>/edit/", ministry_views.request_edit, name="ministry-request-edit"),
    path("ministry/requests/<int:request_id>/submit/", ministry_views.request_action, {"action": "submit"},
         name="ministry-request-submit"),
    path("ministry/requests/<int:request_id>/withdraw/", ministry_views.request_action, {"action": "withdraw"},
         name="ministry-request-withdraw"),
    path("ministry/requests/<int:request_id>/accept/", ministry_views.request_action, {"action": "accept"},
         name="ministry-request-accept"),
    path("ministry/requests/<int:request_id>/decline/", ministry_views.request_action, {"action": "decline"},
         name="ministry-request-decline"),
]

# Appeals: lodged by ministries, answered by the secretariat
from allocation.views import appeals as appeal_views  # noqa: E402

urlpatterns += [
    path("ministry/requests/<int:request_id>/appeal/", appeal_views.appeal_lodge, name="ministry-appeal-lodge"),
    path("ministry/appeals/<int:appeal_id>/withdraw/", appeal_views.appeal_withdraw, name="ministry-appeal-withdraw"),
    path("secretariat/appeals/", appeal_views.secretariat_appeals, name="secretariat-appeals"),
    path("secretariat/appeals/<int:appeal_id>/", appeal_views.secretariat_appeal_detail,
         name="secretariat-appeal-detail"),
    path("secretariat/appeals/<int:appeal_id>/review/", appeal_views.secretariat_appeal_review,
         name="secretariat-appeal-review"),
]
