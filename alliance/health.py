"""Liveness for load balancers and docker-compose: the database answers, and the queue is reported."""
from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        database = "unavailable"
    queue = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "broker"
    status = 200 if database == "ok" else 503
    return JsonResponse({"database": database, "queue": queue}, status=status)
