"""Routes of messages: upload, listing, reading, updates and moves, deletion, quota."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import message_views as views
from chalicelib.api.http import Binary, BinaryResponse, RequestContext, endpoint, redirect
from chalicelib.api.idempotent import once
from chalicelib.api.paging import page_response, shaped
from chalicelib.clock import iso
from chalicelib.services import archive, message_updates, messages, quota
from chalicelib.services.idempotency import Claim
from chalicelib.services.messages import Download, NewMessage, owned_mailbox

if TYPE_CHECKING:
    from chalicelib.schemas.messages import (AttachmentRef, ClearMailbox, CreateUpload,
                                             DeleteMessage, ListFlagged, ListMessages,
                                             MessageRef, QuotaReset, ReadMessage,
                                             UpdateMessages, UploadMessage)

bp = Blueprint(__name__)

MESSAGES = "/users/{user}/mailboxes/{mailbox}/messages"
MESSAGE = MESSAGES + "/{message}"

SOURCE = Binary("message/rfc822", "The stored RFC 822 source")
ATTACHMENT = Binary("*/*", "The decoded attachment, with its own content type")
# Emptying a mailbox in the request stops after this long (API Gateway cuts at 29 s);
# what is left is queued for the task runner.
CLEAR_WITHIN_S = 8.0


def _download(download: Download) -> Response:
    if download.url:
        return redirect(download.url)
    headers = {"Content-Type": download.content_type}
    if download.disposition:
        headers["Content-Disposition"] = download.disposition
    return BinaryResponse(body=download.data or b"", status_code=200, headers=headers)


@endpoint(bp, MESSAGES, "POST", "messages.UploadMessage",
          response="MessageUploaded", raw_body="raw",
          summary="Upload a message (raw RFC 822, base64, an uploadId, or structured fields)")
def upload_message(params: UploadMessage, ctx: RequestContext) -> dict[str, Any]:
    def store(claim: Claim | None) -> dict[str, Any]:
        if params.uploadId:
            raw = messages.raw_from_upload(params.user, params.uploadId)
        elif params.raw is not None:
            raw = messages.raw_from_param(params.raw)
        else:
            raw = messages.composed(params.compose_fields())
        stored = messages.upload(params.user, params.mailbox, NewMessage(
            raw=raw, metadata=params.metaData, seen=not params.unseen, flagged=params.flagged, draft=params.draft,
            idate=params.date), once=claim)
        if params.uploadId:
            messages.discard_upload(params.user, params.uploadId)
        return {"uid": stored.uid, "mailbox": stored.mailbox, "size": stored.size}

    return once(ctx, f"upload:{params.user}", params, store, lambda result: {"message": {
        "id": result["uid"], "mailbox": result["mailbox"], "size": result["size"]}})


@endpoint(bp, "/users/{user}/uploads", "POST", "messages.CreateUpload", response="UploadTarget",
          summary="Get a presigned URL to PUT a large message source to")
def create_upload(params: CreateUpload) -> dict[str, Any]:
    target = messages.new_upload_url(params.user)
    return {"id": target.id, "method": "PUT", "url": target.url,
            "headers": {"Content-Type": target.content_type}, "expires": iso(target.expires),
            "maxSize": target.max_size}


@endpoint(bp, MESSAGES, "GET", "messages.ListMessages", response="MessageList",
          summary="List messages of a mailbox")
def list_messages(params: ListMessages) -> dict[str, Any]:
    mailbox, page = messages.listing(params.user, params.mailbox, order=params.order,
                                     unseen=params.unseen, limit=params.limit,
                                     next_token=params.next, previous_token=params.previous)
    total = int(mailbox.unseen if params.unseen else mailbox.total)
    return page_response(page, params.page, shaped(page, views.summary), total=total,
                         specialUse=mailbox.specialUse)


@endpoint(bp, "/users/{user}/flagged", "GET", "messages.ListFlagged", response="FlaggedList",
          summary="List flagged messages of every mailbox except Junk and Trash")
def list_flagged(params: ListFlagged) -> dict[str, Any]:
    total, page = messages.flagged(params.user, order=params.order, limit=params.limit,
                                   next_token=params.next, previous_token=params.previous)
    return page_response(page, params.page, shaped(page, views.summary), total=total)


@endpoint(bp, MESSAGE, "GET", "messages.ReadMessage", response="MessageDetails",
          summary="Get message details (markAsSeen: and mark it seen)")
def get_message(params: ReadMessage) -> dict[str, Any]:
    view = messages.read(params.user, params.mailbox, params.message)
    if params.markAsSeen:
        message_updates.mark_seen(view.item)
    shaped = views.details(view)
    if params.replaceCidLinks:
        shaped["html"] = views.attachment_urls(shaped["html"], f"/users/{params.user}/mailboxes/"
                                               f"{params.mailbox}/messages/{params.message}")
    return shaped


@endpoint(bp, MESSAGE + "/message.eml", "GET", "messages.MessageRef", response=SOURCE,
          summary="Get the message source")
def get_source(params: MessageRef) -> Response:
    return _download(messages.source(params.user, params.mailbox, params.message))


@endpoint(bp, MESSAGE + "/attachments/{attachment}", "GET", "messages.AttachmentRef",
          response=ATTACHMENT,
          summary="Download an attachment (decoded, with its own content type)")
def get_attachment(params: AttachmentRef) -> Response:
    return _download(messages.attachment(params.user, params.mailbox, params.message,
                                         params.attachment))


@endpoint(bp, MESSAGE + "/events", "GET", "messages.MessageRef", response="MessageEvents",
          summary="Get the message timeline")
def get_events(params: MessageRef) -> dict[str, Any]:
    msgid, entries = message_updates.history(params.user, params.mailbox, params.message)
    return {"id": msgid, "events": [views.event(entry) for entry in entries]}


@endpoint(bp, MESSAGE, "PUT", "messages.UpdateMessages", response="MessagesChanged",
          summary="Update flags of one or more messages, or move them")
def update_messages(params: UpdateMessages) -> dict[str, Any]:
    changes = message_updates.Changes(seen=params.seen, flagged=params.flagged,
                                      draft=params.draft, deleted=params.deleted,
                                      expires=params.expires, metadata=params.metaData)
    if params.moveTo:
        moved = message_updates.move(params.user, params.mailbox, params.message,
                                     params.moveTo, changes)
        return {"mailbox": params.moveTo, "id": [[old, new] for old, new in moved]}
    return {"updated": message_updates.update(params.user, params.mailbox, params.message,
                                              changes)}


@endpoint(bp, MESSAGES, "PUT", "messages.UpdateMessages", response="MessagesChanged",
          summary="Update or move the messages named by `message` (id, list or range)")
def update_messages_bulk(params: UpdateMessages) -> dict[str, Any]:
    """The form of the update whose target comes in the body or query string (`message`),
    for clients that send ranges such as `1:*` outside the URL path."""
    return update_messages(params)


@endpoint(bp, MESSAGE, "DELETE", "messages.DeleteMessage", response="Done",
          summary="Delete a message (to the archive)")
def delete_message(params: DeleteMessage) -> dict[str, Any]:
    archive.delete(params.user, params.mailbox, params.message)
    return {}


@endpoint(bp, MESSAGES, "DELETE", "messages.ClearMailbox",
          response="MailboxCleared | ClearScheduled",
          summary="Delete every message of a mailbox (to the archive), now or as a task")
def clear_mailbox(params: ClearMailbox) -> dict[str, Any]:
    owned_mailbox(params.user, params.mailbox)
    if params.async_:
        task, existing = archive.queue_clear(params.user, params.mailbox, params.skipArchive)
        return {"existing": existing, "scheduled": task}
    cleared = archive.clear(params.user, params.mailbox, params.skipArchive,
                            until=time.time() + CLEAR_WITHIN_S)
    answer: dict[str, Any] = {"deleted": cleared.deleted, "errors": cleared.errors}
    if not cleared.done:  # a large mailbox: the task runner finishes it
        answer["scheduled"] = archive.queue_clear(params.user, params.mailbox,
                                                  params.skipArchive)[0]
    return answer


@endpoint(bp, "/users/{user}/quota/reset", "POST", "messages.QuotaReset", response="QuotaRecount",
          summary="Recalculate the storage used by an account")
def reset_quota(params: QuotaReset) -> dict[str, Any]:
    used, previous = quota.reset(params.user)
    return {"storageUsed": used, "previousStorageUsed": previous}
