"""Routes of /users/{user}/filters and the operator-wide /filters listing."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.clock import iso
from chalicelib.services import filters
from chalicelib.services.authlog import Audit
from chalicelib.store.filters import FilterItem, as_dict

if TYPE_CHECKING:
    from chalicelib.schemas.filters import (CreateFilter, DeleteFilter, FilterRef, ListAllFilters,
                                            ListFilters, UpdateFilter)

bp = Blueprint(__name__)

FILTERS = "/users/{user}/filters"
FILTER = FILTERS + "/{filter}"


@endpoint(bp, FILTERS, "POST", "filters.CreateFilter", response="CreatedId",
          summary="Create a filter (nested query/action, or the flat query_*/action_* fields)")
def create_filter(params: CreateFilter) -> dict[str, Any]:
    return {"id": filters.create(params.user, params, Audit(params.sess, params.ip))}


@endpoint(bp, FILTERS, "GET", "filters.ListFilters", response="FilterList",
          summary="List the filters of a user, described as readable tuples")
def list_filters(params: ListFilters) -> dict[str, Any]:
    found = filters.listing(params.user)
    return {"limits": {"allowed": found.allowed, "used": len(found.filters)},
            "results": [summary(item, found.mailbox_paths, params.metaData)
                        for item in found.filters]}


@endpoint(bp, "/filters", "GET", "filters.ListAllFilters", response="AllFilterList",
          summary="List the filters of every user (operator only), paged")
def list_all_filters(params: ListAllFilters) -> dict[str, Any]:
    page = filters.listing_all(params.limit, params.next, params.forward)
    results = [{**summary(item, {}, params.metaData), "user": item.user,
                "targets": [t["value"] for t in as_dict(item.action).get("targets") or []]}
               for item in page.filters]
    return {"total": len(results), "page": params.page, "previousCursor": False,
            "nextCursor": page.next_cursor, "results": results}


@endpoint(bp, FILTER, "GET", "filters.FilterRef", response="FilterDetails", summary="Get a filter")
def get_filter(params: FilterRef) -> dict[str, Any]:
    return details(filters.get(params.user, params.filter))


@endpoint(bp, FILTER, "PUT", "filters.UpdateFilter", response="Done",
          summary="Update a filter; an empty value clears a field")
def update_filter(params: UpdateFilter) -> dict[str, Any]:
    filters.update(params.user, params.filter, params)
    return {}


@endpoint(bp, FILTER, "DELETE", "filters.DeleteFilter", response="Done", summary="Delete a filter")
def delete_filter(params: DeleteFilter) -> dict[str, Any]:
    filters.delete(params.user, params.filter)
    return {}


# --------------------------------------------------------------------------- views

_HEADER_FIELDS = ("from", "to", "subject", "listId")
_ACTION_WORDS = {"seen": "mark as read", "flag": "flag it", "delete": "delete it",
                 "spam": "mark it as spam"}
_NEGATED = {"seen": "do not mark as read", "flag": "do not flag it",
            "delete": "do not delete it", "spam": "do not mark it as spam"}


def describe_query(query: dict[str, Any]) -> list[list[Any]]:
    described: list[list[Any]] = [[key, f"({query[key]})"] for key in _HEADER_FIELDS
                                  if query.get(key)]
    if query.get("ha") is True:
        described.append(["has attachment"])
    elif query.get("ha") is False:
        described.append(["no attachments"])
    if query.get("text"):
        described.append([False, f'"{query["text"]}"'])
    size = int(query.get("size") or 0)
    if size:
        described.append(["larger" if size > 0 else "smaller", abs(size)])
    return described


def describe_action(action: dict[str, Any], paths: dict[str, str]) -> list[list[Any]]:
    described: list[list[Any]] = []
    for key in ("seen", "flag", "delete", "spam"):
        if key in action:
            described.append([_ACTION_WORDS[key] if action[key] else _NEGATED[key]])
    if action.get("targets"):
        described.append(["forward to", ", ".join(
            (urlsplit(t["value"]).hostname or t["value"]) if t.get("type") == "http"
            else t["value"] for t in action["targets"])])
    if action.get("mailbox"):
        path = paths.get(action["mailbox"])
        described.append(["move to folder", f'"{path}"' if path else action["mailbox"]])
    return described


def _meta(item: FilterItem) -> dict[str, Any]:
    return json.loads(item.metaData) if item.metaData else {}


def summary(item: FilterItem, paths: dict[str, str], with_meta: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": item.id, "name": item.name or "",
        "query": describe_query(_plain(as_dict(item.criteria))),
        "action": describe_action(_plain(as_dict(item.action)), paths),
        "disabled": bool(item.disabled), "created": iso(int(item.created or 0)),
    }
    if with_meta and item.metaData:
        view["metaData"] = _meta(item)
    return view


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v) if k == "size" else v for k, v in values.items()}


def details(item: FilterItem) -> dict[str, Any]:
    query = _plain(as_dict(item.criteria))
    action = dict(as_dict(item.action))
    targets = action.pop("targets", None) or []
    nested_action = {**action, **({"targets": [t["value"] for t in targets]} if targets else {})}
    view: dict[str, Any] = {
        "id": item.id, "name": item.name or "", "created": iso(int(item.created or 0)),
        "disabled": bool(item.disabled), "query": query, "action": nested_action,
        **{f"query_{key}": value for key, value in query.items()},
        **{f"action_{key}": value for key, value in action.items()},
    }
    for flat, kind in (("action_forward", "mail"), ("action_targetUrl", "http")):
        first = next((t["value"] for t in targets if t.get("type") == kind), None)
        if first:
            view[flat] = first
    if item.metaData:
        view["metaData"] = _meta(item)
    return view
