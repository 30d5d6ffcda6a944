"""Which filters match a message, what their actions add up to, and whether a message may
be answered automatically. Pure functions over plain values: no I/O.

Matching follows WildDuck's maildrop: header fields (`from`, `to`, `subject`, `listId`)
are case-insensitive substrings of the header values, where `to` also looks at Cc and
Delivered-To and `from` at Sender; `text` is a case-insensitive substring of the text
body; `ha` requires attachments (true) or their absence (false, the contract's reading);
`size` > 0 means larger than, < 0 smaller than. Every field given must match.

Merging: every matching enabled filter applies, in creation order; for `seen`, `flag`,
`delete`, `spam` and `mailbox` the first filter that sets one decides it, forward
targets are the union of all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

_HEADER_OF = {"from": "from", "to": "to", "subject": "subject", "listId": "list-id"}
_ALSO = {"cc": "to", "delivered-to": "to", "sender": "from"}
_NO_REPLY = re.compile(r"mailer-daemon|no-?reply", re.IGNORECASE)
_BULK = {"bulk", "list", "junk"}


@dataclass(frozen=True)
class MailFacts:
    """What filters look at: top-level headers (lower-case keys), text, size, attachments."""

    headers: Sequence[Mapping[str, str]]
    text: str
    size: int
    has_attachments: bool


@dataclass
class Actions:
    seen: bool | None = None
    flag: bool | None = None
    delete: bool | None = None
    spam: bool | None = None
    mailbox: str | None = None
    targets: list[dict[str, str]] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)


def _list_id(value: str) -> str:
    found = re.search(r"<([^>]+)", value)
    return found.group(1).strip() if found and found.group(1).strip() else value


def matches(query: Mapping[str, Any], facts: MailFacts) -> bool:
    wanted = {_HEADER_OF[key]: str(value).lower() for key, value in query.items()
              if key in _HEADER_OF and value}
    if "list-id" in wanted:
        wanted["list-id"] = _list_id(wanted["list-id"])
    found: set[str] = set()
    for header in facts.headers:
        key = header["key"]
        if key in _ALSO and key not in wanted:
            key = _ALSO[key]
        if key in wanted and wanted[key] in (header.get("value") or "").lower():
            found.add(key)
    if len(found) < len(wanted):
        return False
    if isinstance(query.get("ha"), bool) and query["ha"] != facts.has_attachments:
        return False
    size = int(query.get("size") or 0)
    if size > 0 and facts.size <= size or size < 0 and facts.size >= -size:
        return False
    text = str(query.get("text") or "").lower()
    return not text or text in " ".join(facts.text.split()).lower()


def merge(filters: Iterable[tuple[str, Mapping[str, Any]]]) -> Actions:
    """The combined actions of the matching filters `(id, action)`, in order."""
    merged = Actions()
    seen_targets: set[str] = set()
    for filter_id, action in filters:
        merged.filters.append(filter_id)
        for key in ("seen", "flag", "delete", "spam", "mailbox"):
            if getattr(merged, key) is None and action.get(key) is not None:
                setattr(merged, key, action[key])
        for target in action.get("targets") or []:
            if target["value"] not in seen_targets:
                seen_targets.add(target["value"])
                merged.targets.append(dict(target))
    return merged


def autoreply_allowed(sender: str | None, recipient: str,
                      headers: Sequence[Mapping[str, str]]) -> bool:
    """Whether a message may get an automatic answer: a real sender (not the bounce
    address, mailer-daemon or a no-reply address, not the recipient itself) and not
    itself automatic or bulk (Auto-Submitted other than `no`, Precedence bulk/list/junk,
    List-Unsubscribe, X-Auto-Response-Suppress OOF/AutoReply)."""
    if not sender or "@" not in sender or _NO_REPLY.search(sender):
        return False
    if sender.strip().lower() == recipient.strip().lower():
        return False
    first: dict[str, str] = {}
    for header in headers:
        first.setdefault(header["key"], (header.get("value") or "").strip().lower())
    if first.get("auto-submitted", "no") != "no":
        return False
    if first.get("precedence") in _BULK or "list-unsubscribe" in first:
        return False
    return not re.search(r"oof|autoreply", first.get("x-auto-response-suppress", ""))
