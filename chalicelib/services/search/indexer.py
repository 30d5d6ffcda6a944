"""The search index, kept from the messages table's stream.

A message's index entries are keyed by its `userDateKey` (date and msgid), which a move
or a restore keeps; only where they point (mailbox, uid) changes. The stream says that
something happened at a key (mailbox, uid); the indexer does not trust the order or the
number of those records (retries repeat them, the shards of a move are read in
parallel). Under the lease of the message's doc it reads what is true now: the message
items at the keys the records name and at the place the doc last recorded (one
consistent BatchGetItem). If one of them is the message, its postings are written to
point there (a first index reads the text; a move reuses the doc's terms); if none is,
its postings and doc are removed. The last record handled after the last write thus
leaves the index right, whatever came before, and a repeated record changes nothing.

Flag changes (MODIFY) are not indexed: postings carry only what never changes or
changes with a move (mailbox, uid, size, attachments, thread); flags are read from the
message when a search filters on them.
"""
from __future__ import annotations

import time
import uuid
from typing import Iterable

from chalicelib import logs, mail
from chalicelib.clock import now_ms
from chalicelib.services.messages import full_view, plain
from chalicelib.services.search.text import searchable_text, terms_of
from chalicelib.store.batch import batch_get
from chalicelib.store import search as index
from chalicelib.store.messages import MessageItem
from chalicelib.streams import Change

# Not shorter than the functions' timeout (lambda_timeout, 30 s): a holder that stalls
# is stopped by Lambda before its lease can pass to another reader. One message's work
# is a few seconds at most (2,000 postings: 80 BatchWriteItem calls).
LEASE_MS = 30_000
CLAIM_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)  # then the record is reported failed, retried

Location = tuple[str, int]


def message_text(item: MessageItem) -> str:
    """What the message is found by (bodies and long recipient lists may be in S3)."""
    view = full_view(item)
    fields = {"subject": item.subject, "from": plain(item.from_) if item.from_ else None,
              "to": view.extra.get("to") or plain(item.to or []),
              "cc": view.extra.get("cc") or plain(item.cc or [])}
    # An HTML-only message is found by its visible text, as its intro shows it.
    body = view.text or " ".join(mail.html_to_text(part) for part in view.html)
    return searchable_text(fields, body)


def on_messages(changes: list[Change]) -> list[Change]:
    """Stream handler: reindex each message the batch touches once; the changes of
    messages that could not be reindexed are returned (retried by the caller)."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        if change.event == "MODIFY":
            continue
        image = change.new or change.old or {}
        if not (image.get("user") and image.get("userDateKey")):  # not a message item
            logs.warning("stream record without a message", sequence=change.sequence)
            continue
        groups.setdefault((image["user"], image["userDateKey"]), []).append(change)
    failed: list[Change] = []
    for (user, sort), group in groups.items():
        places = {(str(c.keys["mailbox"]), int(c.keys["uid"])) for c in group}
        # Named after its records: Lambda's retry of this batch (after a crash or a
        # timeout that left the lease held) is the same owner and goes on at once.
        owner = "stream:" + ",".join(sorted(c.sequence for c in group))
        try:
            done = reindex(user, sort, places, owner=owner)
        except Exception:  # noqa: BLE001 - this message is retried, the others go on
            logs.exception("search indexing failed", user=user, message=sort)
            done = False
        if not done:
            failed += group
    return failed


def reindex(user: str, sort: str, places: Iterable[Location] = (), *,
            rebuild: bool = False, owner: str | None = None) -> bool:
    """Make the index entries of the message `sort` of `user` match the messages table,
    looking for it at `places` and where its doc says it is (`rebuild`: read its text
    and write every posting again, for an index that may have lost entries). False when
    another reader held the message's lease throughout, or the lease was lost (try
    again later). `owner` names the lease (default: this call alone)."""
    owner = owner or uuid.uuid4().hex
    doc = _claim(user, sort, owner)
    if doc is None:
        return False
    known = set(places)
    if doc.mailbox:
        known.add((doc.mailbox, int(doc.uid)))
    msgid = sort.split("-", 1)[1]
    found = batch_get([(MessageItem, place) for place in sorted(known)])
    live = next((item for item in found
                 if isinstance(item, MessageItem) and item.msgid == msgid), None)
    if live is None:
        if doc.terms:
            index.delete_postings(user, sort, doc.terms)
        return index.drop(doc, owner)
    fresh = rebuild or doc.terms is None
    terms = terms_of(message_text(live)) if fresh else list(doc.terms)
    if rebuild and doc.terms:
        index.delete_postings(user, sort, set(doc.terms) - set(terms))
    if fresh or (doc.mailbox, int(doc.uid or 0)) != (live.mailbox, int(live.uid)):
        index.put_postings(user, sort, terms, mailbox=live.mailbox, uid=int(live.uid),
                           size=int(live.size), att=int(bool(live.hasAttachments)),
                           thread=live.thread)
    return index.settle(doc, owner, live.mailbox, int(live.uid), terms)


def _claim(user: str, sort: str, owner: str) -> index.DocItem | None:
    for wait in (*CLAIM_WAITS_S, None):
        doc = index.claim(user, sort, owner, now_ms(), LEASE_MS)
        if doc is not None or wait is None:
            return doc
        time.sleep(wait)
    return None
