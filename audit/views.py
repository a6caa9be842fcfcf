"""Pages of the audit trail: the history a person may read (with filters), one object's history, and
the public verification of the chain."""
import json

from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import selectors
from audit.forms import AuditFilterForm
from audit.tracking import TRACKED

PAGE_SIZE = 50


def _rows(entries, user) -> list[dict]:
    """Each entry with its changes as (field, before, after) and whether the actor's name is shown."""
    shown = selectors.actor_shown_to(user)
    rows = []
    for entry in entries:
        before, after = entry.before, entry.after
        if not shown(entry):  # no names, nor the ids of the people named in the change
            before, after = selectors.without_personal_fields(before), selectors.without_personal_fields(after)
        names = [name for name in after if name != "id" and not (name in before and before[name] == after[name])]
        names += [name for name in before if name not in after and name != "id"]
        changes = [{"field": name, "before": before.get(name), "after": after.get(name),
                    "created": name not in before} for name in names]
        extra = entry.extra
        rows.append({
            "entry": entry,
            "actor_name": entry.actor_username if shown(entry) else "",
            "changes": changes,
            "created": bool(changes) and not before,
            "extra_inline": {key: value for key, value in extra.items() if not isinstance(value, dict | list)},
            "extra_more": {key: json.dumps(value, ensure_ascii=False, sort_keys=True)
                           for key, value in extra.items() if isinstance(value, dict | list)},
        })
    return rows


def _type_label(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


@require_safe
def entry_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = selectors.entries_visible_to(request.user).order_by("-sequence")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    elif form.is_bound:
        entries = entries.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/entry_list.html", {
        "form": form, "page": page, "rows": _rows(page.object_list, request.user), "query": query.urlencode(),
        "sees_everything": selectors.sees_everything(request.user),
    })


@require_safe
def object_history(request, object_type: str, object_id: str):
    if object_type not in TRACKED:
        raise Http404(f"No audited object type {object_type!r}.")
    entries = selectors.entries_visible_to(request.user).filter(object_type=object_type, object_id=object_id)
    entries = list(entries.order_by("sequence")[:1000])
    if not entries:
        raise Http404(f"No history of {object_type}:{object_id} is visible to you.")
    return render(request, "audit/object_history.html", {
        "object_type": object_type, "object_id": object_id, "type_label": _type_label(object_type),
        "rows": _rows(entries, request.user),
    })


@require_safe
def verify(request):
    return render(request, "audit/verify.html", {"report": selectors.audit_chain_verify_recent()})
