"""Routes of the archive: deleted messages, listed, read and restored.

Served at the documented paths (`/archived`, `/archived/{message}`) and at the current
server's (`/archived/messages`, `/archived/messages/{message}`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api import message_views as views
from chalicelib.api.http import endpoint
from chalicelib.api.paging import page_response, shaped
from chalicelib.services import archive

if TYPE_CHECKING:
    from chalicelib.schemas.messages import (ArchivedRef, ListArchived, RestoreArchived,
                                             RestoreArchivedRange)

bp = Blueprint(__name__)


def _list(params: ListArchived) -> dict[str, Any]:
    total, page = archive.listing(params.user, order=params.order, limit=params.limit,
                                  next_token=params.next, previous_token=params.previous)
    return page_response(page, params.page, shaped(page, views.archived_summary),
                         total=total, specialUse=None)


def _restore(params: RestoreArchived) -> dict[str, Any]:
    mailbox, uid = archive.restore(params.user, params.message, params.mailbox)
    # `id` is WildDuck's name for the new uid; `uid` is this API's.
    return {"mailbox": mailbox, "id": uid, "uid": uid}


@endpoint(bp, "/users/{user}/archived", "GET", "messages.ListArchived", response="ArchivedList",
          summary="List archived messages")
def list_archived(params: ListArchived) -> dict[str, Any]:
    return _list(params)


@endpoint(bp, "/users/{user}/archived/messages", "GET", "messages.ListArchived",
          response="ArchivedList",
          summary="List archived messages (current server's path)")
def list_archived_messages(params: ListArchived) -> dict[str, Any]:
    return _list(params)


# A literal segment: it wins over /archived/{message} on both routers.
@endpoint(bp, "/users/{user}/archived/restore", "POST", "messages.RestoreArchivedRange",
          response="RestoreQueued",
          summary="Restore every message deleted in a time range (a background task)")
def restore_archived_range(params: RestoreArchivedRange) -> dict[str, Any]:
    return {"task": archive.queue_restore(params.user, params.start, params.end)}


@endpoint(bp, "/users/{user}/archived/{message}", "GET", "messages.ArchivedRef",
          response="ArchivedDetails",
          summary="Get an archived message")
def get_archived(params: ArchivedRef) -> dict[str, Any]:
    return views.archived_details(*archive.read(params.user, params.message))


@endpoint(bp, "/users/{user}/archived/messages/{message}", "GET", "messages.ArchivedRef",
          response="ArchivedDetails", summary="Get an archived message (current server's path)")
def get_archived_message(params: ArchivedRef) -> dict[str, Any]:
    return views.archived_details(*archive.read(params.user, params.message))


@endpoint(bp, "/users/{user}/archived/{message}/restore", "POST", "messages.RestoreArchived",
          response="Restored", summary="Restore an archived message")
def restore_archived(params: RestoreArchived) -> dict[str, Any]:
    return _restore(params)


@endpoint(bp, "/users/{user}/archived/messages/{message}/restore", "POST",
          "messages.RestoreArchived",
          response="Restored", summary="Restore an archived message (current server's path)")
def restore_archived_message(params: RestoreArchived) -> dict[str, Any]:
    return _restore(params)
