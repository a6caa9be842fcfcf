"""Helpers of the permission matrix: every URL pattern of the project, and a request made as a role."""
import json
from urllib.parse import urlencode

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ("anonymous", "ministry_a", "ministry_b", "donor", "provider", "reviewer", "secretariat")


def url_patterns(patterns=None, prefix="", namespace=None):
    """(route, name) of every URL pattern, e.g. ("api/requests/<int:request_id>/", "api:request-detail")."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), (f"{namespace}:" if namespace else "") + (pattern.name or "")


def fingerprint():
    """What a refused write must leave as it was: every row of the alliance's tables and the audit chain."""
    from django.apps import apps

    rows = []
    for label in ("members", "allocation", "audit", "authtoken"):
        for model in apps.get_app_config(label).get_models():
            rows.append((model._meta.label, json.dumps(list(model.objects.order_by("pk").values()), default=str,
                                                       sort_keys=True)))
    return rows


def request_as(user, method: str, path: str, data=None, watch: bool = False):
    """One request as ``user`` (None: the public), rolled back afterwards so roles do not disturb each
    other; ``data`` goes to the API as JSON and to pages as a form. Returns the response and, with ``watch``,
    whether the database changed."""
    client = Client(HTTP_HOST="testserver")
    if user is not None:
        client.force_login(user)
    kwargs = {}
    if data is not None and path.startswith("/api/"):
        kwargs = {"data": json.dumps(data, default=str), "content_type": "application/json"}
    elif data is not None:
        kwargs = {"data": urlencode(data, doseq=True), "content_type": "application/x-www-form-urlencoded"}
    with transaction.atomic():
        before = fingerprint() if watch else None
        response = getattr(client, method.lower())(path, **kwargs)
        changed = watch and fingerprint() != before
        transaction.set_rollback(True)
    return response, changed
