"""Pages of the allocation app (round progress and results)."""
from django.urls import path

from allocation import views
from allocation.views import donor, provider

urlpatterns = [
    path("rounds/<int:round_id>/", views.round_detail, name="round-detail"),
    path("rounds/<int:round_id>/solve/", views.round_solve, name="round-solve"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run-progress"),
    # Donor officers
    path("donor/", donor.donor_home, name="donor-home"),
    path("donor/pledges/new/in-kind/", donor.pledge_in_kind_create, name="donor-pledge-in-kind"),
    path("donor/pledges/new/cash/", donor.pledge_cash_create, name="donor-pledge-cash"),
    path("donor/pledges/<int:pledge_id>/", donor.pledge_detail, name="donor-pledge-detail"),
    path("donor/pledges/<int:pledge_id>/withdraw/", donor.pledge_withdraw, name="donor-pledge-withdraw"),
    path("donor/pledges/<int:pledge_id>/statement.<str:fmt>", donor.pledge_statement, name="donor-pledge-statement"),
    # Provider officers
    path("provider/", provider.provider_home, name="provider-home"),
    path("provider/offers/new/", provider.offer_create, name="provider-offer-new"),
    path("provider/offers/<int:offer_id>/withdraw/", provider.offer_withdraw, name="provider-offer-withdraw"),
    path("provider/rounds/<int:round_id>/lines/", provider.round_lines, name="provider-round-lines"),
    path("provider/rounds/<int:round_id>/lines/confirm-all/", provider.lines_confirm_all,
         name="provider-lines-confirm-all"),
    path("provider/lines/<int:line_id>/confirm/", provider.line_confirm, name="provider-line-confirm"),
    path("provider/lines/<int:line_id>/flag/", provider.line_flag, name="provider-line-flag"),
    path("allocation-lines/<int:line_id>/", provider.line_detail, name="line-detail"),
]
