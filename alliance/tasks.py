"""Celery tasks of the platform itself."""
from celery import shared_task

from alliance.cache import public_figures


@shared_task(ignore_result=True)
def warm_public_figures() -> None:
    """Compute the figures of the dashboard and of the open-data summary for every published round, under
    the current version of the public data (queued when it changes)."""
    from alliance.selectors import dashboard_figures
    from allocation.api.published import published_summary
    from allocation.selectors import published_lines

    public_figures("dashboard:all", lambda: dashboard_figures(round_id=None))
    public_figures("summary:all", lambda: published_summary(published_lines()))
