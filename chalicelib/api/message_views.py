"""JSON views of messages, shared by the message and archive routes."""
from __future__ import annotations

import re
from typing import Any

from chalicelib import mail, metadata
from chalicelib.clock import iso
from chalicelib.services.messages import FullView, plain
from chalicelib.store.base import as_dict
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.messages import (ANSWERED, DELETED, DRAFT, FLAGGED, FORWARDED, JUNK, SEEN,
                                       MessageItem)


def _flag_fields(item: MessageItem) -> dict[str, bool]:
    return {"seen": item.has(SEEN), "deleted": item.has(DELETED),
            "flagged": item.has(FLAGGED), "draft": item.has(DRAFT),
            "answered": item.has(ANSWERED), "forwarded": item.has(FORWARDED)}


def summary(item: MessageItem) -> dict[str, Any]:
    """The listing form (works on index entries, which carry only listing attributes)."""
    return {
        "id": int(item.uid), "mailbox": item.mailbox, "thread": item.thread,
        "from": plain(item.from_) if item.from_ else None,
        "to": plain(item.to or []), "cc": plain(item.cc or []), "bcc": plain(item.bcc or []),
        "messageId": item.messageId, "subject": item.subject or "",
        "date": iso(item.hdate), "idate": iso(item.idate), "intro": item.intro or "",
        "attachments": bool(item.hasAttachments), "size": int(item.size),
        **_flag_fields(item),
        "contentType": plain(item.contentType) if item.contentType else None,
        "expires": iso(item.expires) if item.expires else False,
        "encrypted": bool(item.encrypted),
    }


def _attachment(value: dict[str, Any]) -> dict[str, Any]:
    size = int(value.get("size", 0))
    shaped = {"id": value["id"], "filename": value.get("filename"),
              "contentType": value.get("contentType"), "disposition": value.get("disposition"),
              "transferEncoding": value.get("transferEncoding"),
              "related": bool(value.get("cid")), "cid": value.get("cid"),
              "size": size, "sizeKb": (size + 1023) // 1024}
    if value.get("hash"):  # messages stored before hashes were kept have none
        shaped["hash"] = value["hash"]
    return shaped


def _mailing_list(item: MessageItem) -> dict[str, Any] | None:
    """`list` as WildDuck answers it; an item stored before `mailingList` was kept has
    only the List-Id identifier (no name, no List-Unsubscribe)."""
    if item.mailingList:
        return plain(item.mailingList)
    if item.listId:
        return {"id": {"name": "", "address": item.listId}}
    return None


def _html_of(view: FullView, attachments: list[dict[str, Any]]) -> list[str]:
    """The HTML parts as WildDuck shows them: plain text rendered as HTML when there is
    no HTML part, and `cid:` links pointing at the attachments they name."""
    parts = view.html or ([mail.text_to_html(view.text)] if view.text.strip() else [])
    cids = {str(a["cid"]).strip("<>"): a["id"] for a in attachments if a.get("cid")}
    return mail.link_inline_images(parts, cids)


def details(view: FullView, id_value: Any = None) -> dict[str, Any]:
    """The full form of a message (`id_value` replaces the uid for archived messages).

    `cc`, `bcc` and `replyTo` are left out when the message has none, as the reference
    server does (listings always carry `cc` and `bcc`)."""
    item, extra = view.item, view.extra
    attachments = extra.get("attachments") or plain(item.attachments or [])
    optional = {"cc": extra.get("cc") or plain(item.cc or []),
                "bcc": extra.get("bcc") or plain(item.bcc or []),
                "replyTo": plain(item.replyTo or [])}
    shaped = {
        **summary(item),
        "id": int(item.uid) if id_value is None else id_value,
        "user": item.user,
        "to": extra.get("to") or plain(item.to or []),
        **optional,
        "inReplyTo": item.inReplyTo,
        "references": extra.get("references") or list(item.references or []),
        "list": _mailing_list(item),
        "junk": item.has(JUNK),
        "text": view.text,
        "html": _html_of(view, attachments),
        "attachments": [_attachment(a) for a in attachments],
        "metaData": metadata.loaded(item.metaData),
    }
    for name, value in optional.items():
        if not value:
            del shaped[name]
    if shaped["list"] is None:  # neither List-Id nor List-Unsubscribe: left out
        del shaped["list"]
    return shaped


_ATTACHMENT_LINK = re.compile(r"\battachment:(ATT\d{5,8})\b")


def attachment_urls(parts: list[str], message_path: str) -> list[str]:
    """`replaceCidLinks`: inline image links (`attachment:ATT00001`) as the API paths
    that serve those attachments, for clients that put the HTML in a page as it is."""
    return [_ATTACHMENT_LINK.sub(lambda m: f"{message_path}/attachments/{m.group(1)}", part)
            for part in parts]


def archived_summary(item: ArchivedItem) -> dict[str, Any]:
    return {**summary(item.as_message()), "id": item.id, "uid": int(item.uid),
            "archived": iso(item.archived)}


def archived_details(item: ArchivedItem, view: FullView) -> dict[str, Any]:
    return {**details(view, id_value=item.id), "uid": int(item.uid),
            "archived": iso(item.archived)}


def event(entry: Any) -> dict[str, Any]:
    """One entry of a message's timeline: its data fields beside id, action and time."""
    data = as_dict(entry.data)
    return {"id": entry.id, "action": entry.action, "time": iso(entry.time),
            **{k: plain(v) for k, v in data.items()}}
