"""Routes of a user's mailboxes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.services import mailboxes
from chalicelib.store.mailboxes import MailboxItem

if TYPE_CHECKING:
    from chalicelib.schemas.mailboxes import (CreateMailbox, ListMailboxes, MailboxRef,
                                              ResolveMailbox, UpdateMailbox)

bp = Blueprint(__name__)


@endpoint(bp, "/users/{user}/mailboxes", "GET", "mailboxes.ListMailboxes", response="MailboxList",
          summary="List the mailboxes of a user")
def list_mailboxes(params: ListMailboxes) -> dict[str, Any]:
    return {"results": [summary(box, counters=params.counters, sizes=params.sizes)
                        for box in mailboxes.listing(params)]}


# Declared before /mailboxes/{mailbox}; both routers (API Gateway and chalice local)
# prefer the literal segment whatever the order, this only keeps the reading order.
@endpoint(bp, "/users/{user}/mailboxes/resolve", "GET", "mailboxes.ResolveMailbox",
          response="MailboxDetails", summary="Get the mailbox at a path, as GET by id does")
def resolve_mailbox(params: ResolveMailbox) -> dict[str, Any]:
    return details(mailboxes.resolve(params.user, params.path))


@endpoint(bp, "/users/{user}/mailboxes", "POST", "mailboxes.CreateMailbox", response="CreatedId",
          summary="Create a mailbox")
def create_mailbox(params: CreateMailbox) -> dict[str, Any]:
    return {"id": mailboxes.create(params)}


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}", "GET", "mailboxes.MailboxRef",
          response="MailboxDetails",
          summary="Get one mailbox with its counters")
def get_mailbox(params: MailboxRef) -> dict[str, Any]:
    return details(mailboxes.get(params.user, params.mailbox))


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}", "PUT", "mailboxes.UpdateMailbox",
          response="Done",
          summary="Rename a mailbox (with its children) or change its settings")
def update_mailbox(params: UpdateMailbox) -> dict[str, Any]:
    mailboxes.update(params)
    return {}


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}", "DELETE", "mailboxes.MailboxRef",
          response="Done",
          summary="Delete a user-made mailbox; its messages are purged later")
def delete_mailbox(params: MailboxRef) -> dict[str, Any]:
    mailboxes.delete(params.user, params.mailbox)
    return {}


# --------------------------------------------------------------------------- views


def summary(box: MailboxItem, *, counters: bool, sizes: bool) -> dict[str, Any]:
    """The listing form of a mailbox; counters and sizes are read from the item itself,
    so asking for them costs nothing. `retention` only when the mailbox has one, as the
    reference lists it; `size` with `sizes`, and with `counters` as this API always did."""
    shaped: dict[str, Any] = {
        "id": box.id, "name": box.name, "path": box.path, "specialUse": box.specialUse,
        "modifyIndex": int(box.modifyIndex or 0), "subscribed": bool(box.subscribed),
        "hidden": bool(box.hidden), "encryptMessages": bool(box.encryptMessages),
    }
    if box.retention:
        shaped["retention"] = int(box.retention)
    if counters:
        shaped.update(total=int(box.total or 0), unseen=int(box.unseen or 0))
    if counters or sizes:
        shaped["size"] = int(box.size or 0)
    return shaped


def details(box: MailboxItem) -> dict[str, Any]:
    """GET of one mailbox (by id or by path): always with counters."""
    return {**summary(box, counters=True, sizes=True), "uidNext": int(box.uidNext or 1),
            "retention": int(box.retention) if box.retention else False}
