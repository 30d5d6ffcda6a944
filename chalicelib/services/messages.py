"""Messages: storing an upload, reading a message, listing a mailbox or the flagged view.

Upload order (DESIGN principle 4): parse, one BatchGetItem (user, mailbox, thread
lookups), S3 PUTs (raw source; parsed bodies when they are too large for the item), a
uid claimed from the mailbox's `uidNext` and a journal number from the user's
`journalSeq` (one atomic ADD each), then ONE TransactWriteItems that puts the item,
updates the mailbox counters, charges the user's `storageUsed` under the quota condition
and puts the EXISTS journal entry. A failure after the S3 PUT leaves at worst an
unreferenced folder (deleted on the spot when possible, otherwise by the sweeper),
never an item without its body.
"""
from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

# The mail package loads its parts on first use (chalicelib/mail/__init__.py): routes
# that never parse or compose a message do not import the email machinery.
from chalicelib import logs, mail
from chalicelib.clock import now_ms
from chalicelib.cursors import decode_cursor
from chalicelib.errors import (AttachmentNotFound, InputValidationError, MessageNotFound,
                               NoSuchMailbox, OverQuotaError, UserNotFound)
from chalicelib.ids import new_id
from chalicelib.services import addressregister, idempotency, users
from chalicelib.services.users import quota_allowed
from chalicelib.store.batch import batch_get
from chalicelib.store import blobs, journal, threads
from chalicelib.store import mailboxes as mailboxes_store
from chalicelib.store import messages as store
from chalicelib.store.events import event
from chalicelib.store.keys import KeyItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import DELETED, DRAFT, FLAGGED, SEEN, MessageItem
from chalicelib.store.paging import Page, query_page
from chalicelib.store.transact import Transaction, TransactionFailed, run
from chalicelib.store.users import UserItem, no_own_quota
from chalicelib.request_limits import MAX_DATE_MS

MAX_MESSAGE_BYTES = 40 * 1024 * 1024
INLINE_BODIES_BYTES = 4 * 1024  # text + html kept on the item up to this (UTF-8 JSON)
INLINE_ADDRESSES = 50  # per address field; the full list goes to bodies.json
INLINE_REFERENCES = 20
INLINE_ATTACHMENTS = 200
# The attachment list kept on the item is also held to this many bytes of JSON (the rest
# goes to bodies.json), leaving room on the 400 KB item for 64 KiB of `metaData`.
INLINE_ATTACHMENT_BYTES = 48 * 1024
LIST_UNSUBSCRIBE_ENTRIES = 10
MAX_SUBJECT = 2048
MAX_HEADER_VALUE = 998
# API Gateway and Lambda cap a response near 6 MB, and binary bodies travel base64
# encoded (4/3 larger): anything bigger is answered with a redirect to S3.
INLINE_RESPONSE_BYTES = 4 * 1024 * 1024
HIDDEN_FROM_FLAGGED = ("\\Junk", "\\Trash")


@dataclass(frozen=True)
class NewMessage:
    """A message to store and the state it starts in."""

    raw: bytes
    metadata: str | None = None  # `metaData` as compact JSON text
    seen: bool = True
    flagged: bool = False
    draft: bool = False
    idate: int | None = None  # epoch ms; now when absent
    source: str = "API"


@dataclass(frozen=True)
class Stored:
    uid: int
    mailbox: str
    size: int
    msgid: str
    thread: str


@dataclass(frozen=True)
class Download:
    """Bytes to answer with, or a short-lived URL to redirect to."""

    content_type: str
    data: bytes | None = None
    url: str | None = None
    filename: str | None = None

    @property
    def disposition(self) -> str | None:
        return blobs.disposition(self.filename) if self.filename else None


# --------------------------------------------------------------------------- sources


def raw_from_param(value: Any) -> bytes:
    """The `raw` parameter: bytes of a message/rfc822 body, or JSON text that is either the
    message itself or its base64 form (an RFC 822 message always has a `:`; base64 never)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value)
    if ":" in text:
        return text.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputValidationError({"raw": '"raw" must be an RFC 822 message or its base64 form'}) \
            from None


def composed(fields: dict[str, Any]) -> bytes:
    """A proper MIME message built from structured upload fields."""
    try:
        return mail.compose_message(**fields)
    # IndexError: the stdlib's header folding fails on a name of 78+ characters whose
    # value is empty; such a header cannot be written, so the request is refused.
    except (ValueError, TypeError, IndexError) as error:
        raise InputValidationError({"request": f"cannot build the message: {error}"}) from None


@dataclass(frozen=True)
class UploadTarget:
    """Where to PUT a large source, until when (epoch ms), and the id that names it."""

    id: str
    url: str
    content_type: str
    expires: int
    max_size: int


def new_upload_url(user_id: str) -> UploadTarget:
    """A presigned PUT for sources too large for an API request (API Gateway stops near
    6 MB); the upload call then names the returned id as `uploadId`."""
    users.get(user_id)
    upload_id = new_id()
    lifetime = 900
    return UploadTarget(upload_id, blobs.presign_put(blobs.upload_key(user_id, upload_id),
                                                     content_type="message/rfc822",
                                                     expires=lifetime),
                        "message/rfc822", int((time.time() + lifetime) * 1000),
                        MAX_MESSAGE_BYTES)


def raw_from_upload(user_id: str, upload_id: str) -> bytes:
    key = blobs.upload_key(user_id, upload_id)
    size = blobs.size_of(key)
    if size is None:
        raise InputValidationError({"uploadId": '"uploadId" does not name a finished upload'})
    _check_size(size)
    return blobs.get(key)


def discard_upload(user_id: str, upload_id: str) -> None:
    try:
        blobs.delete([blobs.upload_key(user_id, upload_id)])
    except Exception:  # the bucket's lifecycle rule removes it a day later anyway
        logs.warning("could not delete upload", uploadId=upload_id)


def _check_size(size: int) -> None:
    if size == 0:
        raise InputValidationError({"raw": '"raw" is empty'})
    if size > MAX_MESSAGE_BYTES:
        raise InputValidationError(
            {"raw": f'"raw" is larger than the limit of {MAX_MESSAGE_BYTES} bytes'})


# --------------------------------------------------------------------------- upload


def _clean(text: str | None, limit: int | None = None) -> str:
    """Valid UTF-8 (DynamoDB refuses lone surrogates), cut at `limit` characters."""
    value = (text or "").encode("utf-8", "replace").decode("utf-8")
    return value[:limit] if limit else value


def _addresses(values: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    return [{"name": _clean(v.get("name"), 256), "address": _clean(v.get("address"), 320)}
            for v in values]


def flags_of(seen: bool, flagged: bool, draft: bool, deleted: bool = False) -> list[str]:
    return [flag for flag, on in ((SEEN, seen), (FLAGGED, flagged), (DRAFT, draft),
                                  (DELETED, deleted)) if on]


def flagged_visible(mailbox: MailboxItem) -> bool:
    return mailbox.specialUse not in HIDDEN_FROM_FLAGGED


def retention_expiry(mailbox: MailboxItem, arrived_ms: int | None = None) -> int | None:
    """When a message arriving in `mailbox` now (upload, delivery, move, restore) expires:
    the mailbox's retention after its arrival there, none without one. The scheduled
    `expire_messages` job then deletes it (to the archive)."""
    retention = int(mailbox.retention or 0)
    if not retention:
        return None
    return min((now_ms() if arrived_ms is None else arrived_ms) + retention, MAX_DATE_MS)


def _build_item(user_id: str, msgid: str, idate: int, parsed: mail.ParsedMessage, thread: str,
                flags: list[str], encrypted: bool) -> tuple[MessageItem, dict[str, Any] | None]:
    """The item, and the bodies document to put in S3 when it does not fit on the item."""
    text = _clean(parsed.text)
    html = [_clean(part) for part in parsed.html]
    to, cc, bcc = (_addresses(parsed.to), _addresses(parsed.cc), _addresses(parsed.bcc))
    references = [_clean(r, MAX_HEADER_VALUE) for r in parsed.references]
    attachments = [{
        "id": a.id, "filename": _clean(a.filename, 255) if a.filename else None,
        "contentType": _clean(a.content_type, 255), "disposition": a.disposition,
        "transferEncoding": _clean(a.transfer_encoding, 64), "size": a.size,
        "cid": _clean(a.content_id, 255) if a.content_id else None, "part": a.part,
        "hash": a.sha256 or None,
    } for a in parsed.attachments]
    inline_attachments = _inline_attachments([_compact(a) for a in attachments])
    bodies_size = len(text.encode()) + sum(len(part.encode()) for part in html)
    external = (bodies_size > INLINE_BODIES_BYTES
                or max(len(to), len(cc), len(bcc)) > INLINE_ADDRESSES
                or len(references) > INLINE_REFERENCES
                or len(inline_attachments) < len(attachments))
    hdate = _in_date_range(int(parsed.date.timestamp() * 1000)) if parsed.date else idate
    content_type = {"value": _clean(parsed.content_type.get("value"), 255),
                    "params": {_clean(k, 64): _clean(str(v), 255)
                               for k, v in list(parsed.content_type.get("params", {}).items())[:20]}}
    item = MessageItem(
        user=user_id, msgid=msgid, idate=idate, thread=thread, hdate=hdate, size=parsed.size,
        flags=flags, rev=0,
        from_=_addresses([parsed.from_])[0] if parsed.from_ else None,
        to=to[:INLINE_ADDRESSES], cc=cc[:INLINE_ADDRESSES], bcc=bcc[:INLINE_ADDRESSES],
        replyTo=_addresses(parsed.reply_to)[:INLINE_ADDRESSES],
        subject=_clean(parsed.subject, MAX_SUBJECT),
        messageId=_clean(parsed.message_id, MAX_HEADER_VALUE) or None,
        inReplyTo=_clean(parsed.in_reply_to, MAX_HEADER_VALUE) or None,
        references=references[:INLINE_REFERENCES],
        mailingList=_mailing_list(parsed.mailing_list),
        intro=_clean(parsed.intro, 256), attachments=inline_attachments,
        hasAttachments=bool(attachments), contentType=content_type, encrypted=encrypted,
        external=external, text=None if external else text, html=None if external else html)
    bodies = {"text": text, "html": html, "to": to, "cc": cc, "bcc": bcc,
              "references": references, "attachments": [_compact(a) for a in attachments]} \
        if external else None
    return item, bodies


def _inline_attachments(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first attachments, as many as fit the item's share (count and bytes)."""
    kept, size = [], 0
    for value in attachments[:INLINE_ATTACHMENTS]:
        size += len(json.dumps(value, ensure_ascii=False).encode())
        if size > INLINE_ATTACHMENT_BYTES:
            break
        kept.append(value)
    return kept


def _list_entry(value: dict[str, str]) -> dict[str, str]:
    return {"name": _clean(value.get("name"), 256),
            "address": _clean(value.get("address"), MAX_HEADER_VALUE)}


def _mailing_list(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """List-Id and List-Unsubscribe as the message view answers them, bounded."""
    if value is None:
        return None
    kept: dict[str, Any] = {}
    if "id" in value:
        kept["id"] = _list_entry(value["id"])
    if "unsubscribe" in value:
        kept["unsubscribe"] = [_list_entry(entry) for entry in
                               value["unsubscribe"][:LIST_UNSUBSCRIBE_ENTRIES]]
    return kept


def _in_date_range(epoch_ms: int) -> int:
    """Dates a Date header may claim but no view can show are pinned to the range."""
    return max(0, min(epoch_ms, MAX_DATE_MS))


def _compact(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def _thread_keys(user_id: str, plain: mail.ParsedMessage) -> tuple[list[str], str | None]:
    ids = mail.thread_key_candidates(plain)[:INLINE_REFERENCES]
    subject = mail.normalize_subject(plain.subject)
    return ([threads.message_id_key(user_id, mid) for mid in ids],
            threads.subject_key(user_id, subject) if subject else None)


def _thread_writes(user_id: str, plain: mail.ParsedMessage, thread: str) -> list[KeyItem]:
    ids = {mid for mid in (plain.message_id, plain.in_reply_to,
                           plain.references[0] if plain.references else None) if mid}
    writes = [threads.entry(user_id, threads.message_id_key(user_id, mid), thread,
                            threads.MESSAGE_ID_TTL) for mid in sorted(ids)]
    subject = mail.normalize_subject(plain.subject)
    if subject:
        writes.append(threads.entry(user_id, threads.subject_key(user_id, subject), thread,
                                    threads.SUBJECT_TTL))
    return writes


def _read_for_upload(user_id: str, mailbox_id: str,
                     keys: list[str]) -> tuple[UserItem, MailboxItem, list[KeyItem | None]]:
    found = batch_get([(UserItem, (user_id,)), (MailboxItem, (user_id, mailbox_id)),
                             *[(KeyItem, (key,)) for key in keys]])
    user, mailbox = found[0], found[1]
    if not isinstance(user, UserItem) or user.deleted:
        raise UserNotFound()
    if not isinstance(mailbox, MailboxItem):
        raise NoSuchMailbox()
    return user, mailbox, [k if isinstance(k, KeyItem) else None for k in found[2:]]


def quota_condition(user: UserItem, size: int) -> Any:
    """The user-item condition that makes a charge of `size` exact under concurrency."""
    allowed = quota_allowed(user)
    same_quota = no_own_quota() if user.quota is None else UserItem.quota == user.quota
    return UserItem.kind.exists() & (UserItem.storageUsed <= allowed - size) & same_quota


def over_quota(user: UserItem, size: int) -> bool:
    return int(user.storageUsed or 0) + size > quota_allowed(user)


def upload(user_id: str, mailbox_id: str, message: NewMessage,
           after_store: Callable[[], None] | None = None,
           once: idempotency.Claim | None = None,
           recorded: dict[str, Any] | None = None) -> Stored:
    """Store a message in a mailbox (see the module docstring for the order of writes).

    With `once`, the result (plus `recorded`, what the caller did before) is recorded
    in the same transaction; a concurrent request that recorded it first makes this
    one raise `idempotency.Replayed` (and undo its S3 objects), so a retried upload
    stores one message."""
    _check_size(len(message.raw))
    plain = mail.parse_message(message.raw)
    id_keys, subject_key = _thread_keys(user_id, plain)
    lookup_keys = id_keys + ([subject_key] if subject_key else [])
    idate = _in_date_range(message.idate if message.idate is not None else now_ms())
    msgid = new_id()
    raw_key = blobs.raw_key(user_id, idate, msgid)
    body_key = blobs.bodies_key(user_id, idate, msgid)
    flags = flags_of(message.seen, message.flagged, message.draft)
    user, mailbox, found = _read_for_upload(user_id, mailbox_id, lookup_keys)
    item, bodies, stored = _prepare(user, mailbox, msgid, idate, message.raw, plain, flags)
    item.metaData = message.metadata
    store.set_expiry(item, retention_expiry(mailbox))
    item.register = addressregister.marker(mailbox.specialUse, flags, plain.headers, now_ms())
    if over_quota(user, len(stored)):
        raise OverQuotaError()
    blobs.put(raw_key, stored, "message/rfc822")
    try:
        if bodies is not None:
            blobs.put_json(body_key, bodies)
        if after_store:
            after_store()
        item.thread = _pick_thread(found, len(id_keys)) or item.thread
        uid = mailboxes_store.reserve_uids(user_id, mailbox.id, 1)
        if uid is None:
            raise NoSuchMailbox()
        with journal.reserved(user_id, 1) as seqs:
            if seqs is None:
                raise UserNotFound()
            _commit_upload(user, mailbox, item, uid, seqs, message.source,
                           _thread_writes(user_id, plain, item.thread), once, recorded or {})
        return Stored(uid, mailbox.id, int(item.size), msgid, item.thread)
    except BaseException:
        _forget_blobs([raw_key, body_key])
        raise


def _commit_upload(user: UserItem, mailbox: MailboxItem, item: MessageItem, uid: int,
                   seqs: journal.Reservation, source: str, thread_writes: list[KeyItem],
                   once: idempotency.Claim | None, recorded: dict[str, Any]) -> None:
    """One transaction: the item at its claimed uid, the mailbox counters, the quota
    charge, the EXISTS entry. Nothing in it is guarded by a value another upload
    changes, so parallel uploads commit side by side; only a quota change (or a
    deleted account) makes the user condition fail, and then the user is re-read."""
    store.place(item, mailbox.id, uid, flagged_visible(mailbox))
    current = {"user": user}

    def build(tx: Transaction) -> None:
        account = current["user"]
        tx.save(item, condition=MessageItem.uid.does_not_exist(), label="message")
        tx.update(mailbox, actions=[
            MailboxItem.total.add(1), MailboxItem.unseen.add(0 if SEEN in item.flags else 1),
            MailboxItem.size.add(item.size), MailboxItem.modifyIndex.add(1),
        ], condition=MailboxItem.id.exists(), label="mailbox")
        tx.update(account, actions=[UserItem.storageUsed.add(item.size)],
                  condition=quota_condition(account, int(item.size)), label="user")
        seqs.put(tx, [("EXISTS", {"mailbox": mailbox.id, "uid": uid, "message": item.msgid,
                                  "idate": int(item.idate), "thread": item.thread})])
        tx.save(event(user.id, item.msgid, "STORE", source=source, mailbox=mailbox.id,
                      uid=uid, size=item.size, messageId=item.messageId))
        for entry in thread_writes:
            tx.save(entry)
        idempotency.record(tx, once, {**recorded, "uid": uid, "mailbox": mailbox.id,
                                      "size": int(item.size)})

    def reread(failure: TransactionFailed) -> None:
        if "user" in failure.failed:
            fresh = users.get(user.id)
            if over_quota(fresh, int(item.size)):
                raise OverQuotaError()
            current["user"] = fresh

    run(build, errors={"idempotency": idempotency.Replayed, "mailbox": NoSuchMailbox},
        on_retry=reread)


def _prepare(user: UserItem, mailbox: MailboxItem, msgid: str, idate: int, raw: bytes,
             plain: mail.ParsedMessage,
             flags: list[str]) -> tuple[MessageItem, dict[str, Any] | None, bytes]:
    """What gets stored: for users who asked for it (for the account or this mailbox),
    the PGP/MIME-encrypted source, whose envelope keeps the headers listings need (so
    the metadata comes from it)."""
    stored, parsed, encrypted = raw, plain, False
    if (user.encryptMessages or mailbox.encryptMessages) and user.pubKey:
        try:
            stored = mail.encrypt_message(raw, user.pubKey)
        except ValueError:
            logs.warning("could not encrypt; storing as received", user=user.id)
        else:
            encrypted = stored is not raw
            parsed = mail.parse_message(stored) if encrypted else plain
    item, bodies = _build_item(user.id, msgid, idate, parsed, new_id(), flags, encrypted)
    return item, bodies, stored


def _pick_thread(found: list[KeyItem | None], id_count: int) -> str | None:
    for key in found[:id_count]:
        thread = threads.thread_of(key)
        if thread:
            return thread
    for key in found[id_count:]:
        thread = threads.thread_of(key)
        if thread:
            return thread
    return None


def _forget_blobs(keys: list[str]) -> None:
    try:
        blobs.delete(keys)
    except Exception:  # the sweeper removes unreferenced folders later
        logs.warning("could not delete unreferenced objects", keys=keys)


# --------------------------------------------------------------------------- reading


def _gone(user_id: str, error: Exception) -> Exception:
    """The error for a mailbox that is not there: UserNotFound when the whole account is
    gone (one more read, on the failure path only), else `error`."""
    users.get(user_id)
    return error


def owned(user_id: str, mailbox_id: str, uid: int) -> MessageItem:
    """A message of a live mailbox of this user: the message and its mailbox in one
    BatchGetItem. The mailbox item is the proof that neither the mailbox nor the account
    was deleted (both remove it at once, while their messages wait for the purge); a
    mailbox id of another account finds nothing."""
    item, box = batch_get([(MessageItem, (mailbox_id, uid)),
                                 (MailboxItem, (user_id, mailbox_id))])
    if not isinstance(box, MailboxItem):
        raise _gone(user_id, MessageNotFound())
    if not isinstance(item, MessageItem) or item.user != user_id:
        raise MessageNotFound()
    return item


def owned_mailbox(user_id: str, mailbox_id: str) -> MailboxItem:
    """A mailbox of a live account (1 GetItem: deleting the account removes its
    mailboxes, so finding one proves the account)."""
    box = mailboxes_store.get(user_id, mailbox_id)
    if box is None:
        raise _gone(user_id, NoSuchMailbox())
    return box


@dataclass
class FullView:
    """A message as read: the item, its bodies, and the complete lists (`extra`, when
    they were too long for the item)."""

    item: MessageItem
    text: str
    html: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def read(user_id: str, mailbox_id: str, uid: int) -> FullView:
    """One message with its bodies and complete lists."""
    return full_view(owned(user_id, mailbox_id, uid))


def full_view(item: MessageItem) -> FullView:
    """Bodies and complete lists: from the item, or one S3 GET when they live outside."""
    if not item.external:
        return FullView(item, item.text or "", list(item.html or []))
    document = blobs.get_json(blobs.bodies_key(item.user, int(item.idate), item.msgid))
    return FullView(item, document.get("text", ""), list(document.get("html", [])), document)


def plain(value: Any) -> Any:
    """Stored maps and lists as plain JSON-ready values (numbers that are whole as int)."""
    if hasattr(value, "as_dict"):
        return {k: plain(v) for k, v in value.as_dict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _download_limit_exceeded(size: int) -> bool:
    return size > INLINE_RESPONSE_BYTES


def source(user_id: str, mailbox_id: str, uid: int) -> Download:
    """The stored RFC 822 source (for encrypted accounts: the PGP/MIME form)."""
    item = owned(user_id, mailbox_id, uid)
    return source_of(item)


def source_of(item: MessageItem) -> Download:
    key = blobs.raw_key(item.user, int(item.idate), item.msgid)
    if _download_limit_exceeded(int(item.size)):
        return Download("message/rfc822", url=blobs.presign_get(
            key, content_type="message/rfc822", filename=f"{item.msgid}.eml"))
    return Download("message/rfc822", data=blobs.get(key))


def attachment(user_id: str, mailbox_id: str, uid: int, attachment_id: str) -> Download:
    return attachment_of(owned(user_id, mailbox_id, uid), attachment_id)


def attachment_of(item: MessageItem, attachment_id: str) -> Download:
    """Decoded bytes of one attachment, with its own content type. Large ones are extracted
    once into their own object and served by redirect."""
    listed = {a["id"]: a for a in plain(item.attachments or [])}
    if attachment_id not in listed and item.external:
        listed = {a["id"]: a for a in full_view(item).extra.get("attachments", [])}
    meta = listed.get(attachment_id)
    if meta is None:
        raise AttachmentNotFound()
    folder = (item.user, int(item.idate), item.msgid)
    if _download_limit_exceeded(int(meta.get("size", 0))):
        key = blobs.attachment_key(*folder, attachment_id)
        content_type, filename = meta.get("contentType") or "application/octet-stream", \
            meta.get("filename") or attachment_id
        if blobs.size_of(key) is None:
            data, content_type, filename = _extract(folder, attachment_id)
            blobs.put(key, data, content_type)
        return Download(content_type, url=blobs.presign_get(
            key, content_type=content_type, filename=filename), filename=filename)
    data, content_type, filename = _extract(folder, attachment_id)
    return Download(content_type, data=data, filename=filename)


def _extract(folder: tuple[str, int, str], attachment_id: str) -> tuple[bytes, str, str]:
    raw = blobs.get(blobs.raw_key(*folder))
    try:
        return mail.attachment_bytes(raw, attachment_id)
    except KeyError:
        raise AttachmentNotFound() from None


# --------------------------------------------------------------------------- listings


def _cursor(scope: str, next_token: str | None, previous_token: str | None) -> Any:
    if next_token:
        return decode_cursor(scope, next_token, "next")
    if previous_token:
        return decode_cursor(scope, previous_token, "previous")
    return None


def listing(user_id: str, mailbox_id: str, *, order: str = "desc", unseen: bool = False,
            limit: int = 20, next_token: str | None = None,
            previous_token: str | None = None) -> tuple[MailboxItem, Page[MessageItem]]:
    """One page by internal date: 1 GetItem (the mailbox: ownership, total) + 1 Query."""
    mailbox = owned_mailbox(user_id, mailbox_id)
    scope = f"messages:{user_id}:{mailbox_id}"
    page = query_page(
        MessageItem, mailbox_id, index="by_idate", scope=scope,
        key_names=["mailbox", "uid", "idateKey"], limit=limit,
        cursor=_cursor(scope, next_token, previous_token), forward=order == "asc",
        filter_condition=~MessageItem.flags.contains(SEEN) if unseen else None,
        probe=False, total_hint=int(mailbox.total))
    return mailbox, page


def flagged(user_id: str, *, order: str = "desc", limit: int = 20,
            next_token: str | None = None,
            previous_token: str | None = None) -> tuple[int, Page[MessageItem]]:
    """Flagged messages outside Junk and Trash, across mailboxes (the sparse index).

    The index keeps a deleted mailbox's messages until the purge removes them, so the
    account's mailboxes are read first (1 Query, which also proves the account, as the
    mailbox listing does) and entries of any other mailbox are skipped, in the page and
    in the total (an extra Query over the index when the listing has more than a page).
    """
    boxes = mailboxes_store.list_for_user(user_id)
    if not any(box.path == "INBOX" for box in boxes):  # it goes first when the account does
        raise UserNotFound()
    live = {box.id for box in boxes}
    scope = f"flagged:{user_id}"
    page = query_page(
        MessageItem, user_id, index="flagged_index", scope=scope,
        key_names=["mailbox", "uid", "user", "flaggedKey"], limit=limit,
        cursor=_cursor(scope, next_token, previous_token), forward=order == "asc",
        keep=lambda item: item.mailbox in live)
    total = len(page.items)
    if page.next_cursor or page.previous_cursor:
        total = sum(1 for entry in store.flagged_entries(user_id) if entry.mailbox in live)
    return total, page
