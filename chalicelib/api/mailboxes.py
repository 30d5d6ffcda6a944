"""Routes of a user's mailboxes."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as r
from chalicelib.api.http import endpoint
from chalicelib.schemas.mailboxes import (CreateMailbox, ListMailboxes, MailboxRef,
                                          ResolveMailbox, UpdateMailbox)
from chalicelib.services import mailboxes

bp = Blueprint(__name__)


@endpoint(bp, "/users/{user}/mailboxes", "GET", ListMailboxes, response=r.MailboxList,
          summary="List the mailboxes of a user")
def list_mailboxes(params: ListMailboxes) -> dict[str, Any]:
    return {"results": [mailboxes.summary(box, params.counters)
                        for box in mailboxes.listing(params)]}


# Declared before /mailboxes/{mailbox}; both routers (API Gateway and chalice local)
# prefer the literal segment whatever the order, this only keeps the reading order.
@endpoint(bp, "/users/{user}/mailboxes/resolve", "GET", ResolveMailbox, response=r.CreatedId,
          summary="Find the id of the mailbox at a path")
def resolve_mailbox(params: ResolveMailbox) -> dict[str, Any]:
    return {"id": mailboxes.resolve(params.user, params.path)}


@endpoint(bp, "/users/{user}/mailboxes", "POST", CreateMailbox, response=r.CreatedId,
          summary="Create a mailbox")
def create_mailbox(params: CreateMailbox) -> dict[str, Any]:
    return {"id": mailboxes.create(params)}


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}", "GET", MailboxRef, response=r.MailboxDetails,
          summary="Get one mailbox with its counters")
def get_mailbox(params: MailboxRef) -> dict[str, Any]:
    return mailboxes.details(mailboxes.get(params.user, params.mailbox))


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}", "PUT", UpdateMailbox, response=r.Done,
          summary="Rename a mailbox (with its children) or change its settings")
def update_mailbox(params: UpdateMailbox) -> dict[str, Any]:
    mailboxes.update(params)
    return {}


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}", "DELETE", MailboxRef, response=r.Done,
          summary="Delete a user-made mailbox; its messages are purged later")
def delete_mailbox(params: MailboxRef) -> dict[str, Any]:
    mailboxes.delete(params.user, params.mailbox)
    return {}
