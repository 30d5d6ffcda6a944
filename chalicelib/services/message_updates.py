"""Flag changes and moves of one or many messages, and a message's timeline.

A request may target thousands of messages; they are changed in batches that fit one
TransactWriteItems (100 operations): each batch commits atomically with the counters of
the mailboxes involved, the journal entries and the events, and is re-read and retried
on a conflict (`store.transact.run`). Batches commit in uid order. If a batch still
fails by the request's deadline the
request fails and the earlier batches stay committed: the client sees an error, the
messages of committed batches already carry the change (or are in the target mailbox),
and repeating the same request finishes the rest (moved messages are no longer in the
source, flags already set are not changed again).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence, TypeVar

from chalicelib.clock import iso
from chalicelib.errors import InputValidationError, MessageNotFound, NoSuchMailbox, UserNotFound
from chalicelib.services.messages import (flagged_visible, owned, owned_mailbox,
                                          retention_expiry)
from chalicelib.store.batch import batch_get
from chalicelib.store import journal
from chalicelib.store import mailboxes as mailboxes_store
from chalicelib.store import messages as store
from chalicelib.store.events import event, timeline
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import DELETED, DRAFT, FLAGGED, JUNK, SEEN, MessageItem
from chalicelib.store.transact import Transaction, TransactionFailed, run
from chalicelib.store.users import UserItem

FLAG_BATCH = 33  # 3 operations a message (item, FETCH, event) + mailbox
MOVE_BATCH = 19  # 5 a message (delete, put, EXPUNGE, EXISTS, event) + 2 mailboxes

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    seen: bool | None = None
    flagged: bool | None = None
    draft: bool | None = None
    deleted: bool | None = None
    expires: int | None = None  # epoch ms; 0 clears
    metadata: str | None = None  # `metaData` as compact JSON text; replaces the stored one

    def empty(self) -> bool:
        return all(value is None for value in (self.seen, self.flagged, self.draft,
                                               self.deleted, self.expires, self.metadata))

    def flags(self, current: Sequence[str], junk: bool | None = None) -> list[str]:
        result = list(current)
        wanted = ((SEEN, self.seen), (FLAGGED, self.flagged), (DRAFT, self.draft),
                  (DELETED, self.deleted), (JUNK, junk))
        for flag, on in wanted:
            if on is True and flag not in result:
                result.append(flag)
            elif on is False and flag in result:
                result.remove(flag)
        return result

    def expiry(self, current: int | None) -> int | None:
        if self.expires is None:
            return current
        return self.expires or None

    def metadata_only(self) -> bool:
        return Changes(metadata=self.metadata) == self

    def differs(self, item: MessageItem) -> bool:
        return self.state_differs(item) or self.metadata_differs(item)

    def state_differs(self, item: MessageItem) -> bool:
        """Whether flags or expiry change (what IMAP clients and the timeline see)."""
        return (sorted(self.flags(item.flags or [])) != sorted(item.flags or [])
                or self.expiry(item.expires) != item.expires)

    def metadata_differs(self, item: MessageItem) -> bool:
        return self.metadata is not None and self.metadata != item.metaData


def chunks(values: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def resolve(mailbox_id: str, target: str) -> list[MessageItem]:
    """The existing messages a target names: `444`, `1,2,3`, `444:446`, `446:444`, `5:*`."""
    singles: list[int] = []
    found: dict[int, MessageItem] = {}
    for part in target.split(","):
        if ":" not in part:
            singles.append(int(part))
            continue
        first, last = part.split(":")
        if last == "*":
            bounds: tuple[int, int | None] = (int(first), None)
        else:
            low, high = sorted((int(first), int(last)))
            bounds = (low, high)
        for item in store.in_range(mailbox_id, *bounds):
            found[int(item.uid)] = item
    for item in store.get_many(mailbox_id, [uid for uid in singles if uid not in found]):
        found[int(item.uid)] = item
    return [found[uid] for uid in sorted(found)]


def _refresh(mailbox_id: str, batch: list[MessageItem], failed: set[str]) -> list[MessageItem]:
    """Re-read the messages whose condition failed; drop those that are gone."""
    stale = {int(label[1:]) for label in failed if label.startswith("m")}
    if not stale:
        return batch
    fresh = {int(item.uid): item for item in store.get_many(mailbox_id, stale)}
    return [fresh[int(item.uid)] if int(item.uid) in stale else item
            for item in batch if int(item.uid) not in stale or int(item.uid) in fresh]


def update(user_id: str, mailbox_id: str, target: str, changes: Changes) -> int:
    """Change flags/expiry; returns how many messages the target matched."""
    mailbox = owned_mailbox(user_id, mailbox_id)
    items = resolve(mailbox_id, target)
    if not items:
        raise MessageNotFound()
    if changes.empty():
        return len(items)
    pending = [item for item in items if changes.differs(item)]
    for batch in chunks(pending, FLAG_BATCH):
        _update_batch(user_id, mailbox, batch, changes)
    return len(items)


def _update_batch(user_id: str, mailbox: MailboxItem, batch: list[MessageItem],
                  changes: Changes) -> None:
    visible = flagged_visible(mailbox)
    state = {"batch": batch}

    def build(tx: Transaction) -> None:
        state["batch"] = [item for item in state["batch"] if changes.differs(item)]
        unseen_delta = 0
        entries: list[tuple[str, dict[str, Any]]] = []
        for item in state["batch"]:
            flags = changes.flags(item.flags or [])
            expires = changes.expiry(item.expires)
            actions = [MessageItem.rev.add(1)]
            if changes.metadata_differs(item):
                actions.append(MessageItem.metaData.set(changes.metadata))
            if not changes.state_differs(item):
                # Metadata only: nothing IMAP clients see, so no journal entry nor event.
                tx.update(item, actions=actions, condition=MessageItem.rev == item.rev,
                          label=f"m{int(item.uid)}")
                continue
            actions.append(MessageItem.flags.set(flags))
            key = (store.flagged_key(int(item.idate), item.mailbox, int(item.uid))
                   if visible and FLAGGED in flags else None)
            actions.append(MessageItem.flaggedKey.set(key) if key
                           else MessageItem.flaggedKey.remove())
            actions += store.expiry_actions(expires)
            tx.update(item, actions=actions, condition=MessageItem.rev == item.rev,
                      label=f"m{int(item.uid)}")
            unseen_delta += int(SEEN in (item.flags or [])) - int(SEEN in flags)
            entries.append(("FETCH", {"mailbox": mailbox.id, "uid": int(item.uid),
                                      "message": item.msgid, "thread": item.thread,
                                      "flags": flags}))
            tx.save(event(user_id, item.msgid, "FLAGS", mailbox=mailbox.id,
                          uid=int(item.uid), flags=flags,
                          expires=iso(expires) if expires else None))
        seqs.put(tx, entries)
        if entries:
            tx.update(mailbox, actions=[MailboxItem.unseen.add(unseen_delta),
                                        MailboxItem.modifyIndex.add(1)],
                      condition=MailboxItem.id.exists(), label="mailbox")

    def refresh(failure: TransactionFailed) -> None:
        state["batch"] = _refresh(mailbox.id, state["batch"], failure.failed)

    # A change of metadata alone claims no numbers (each unused one costs a PutItem of
    # filler when released).
    with journal.reserved(user_id, 0 if changes.metadata_only() else len(batch)) as seqs:
        if seqs is None:
            raise UserNotFound()
        run(build, errors={"mailbox": NoSuchMailbox}, on_retry=refresh)


def mark_seen(item: MessageItem) -> None:
    """Mark a message that is being read as seen (`markAsSeen`), as a flag update
    (counters, journal, timeline); `item` shows the new flags afterwards."""
    if item.has(SEEN):
        return
    update(item.user, item.mailbox, str(int(item.uid)), Changes(seen=True))
    item.flags = [*(item.flags or []), SEEN]


def move(user_id: str, mailbox_id: str, target: str, to_mailbox: str,
         changes: Changes) -> list[tuple[int, int]]:
    """Move messages (with optional flag changes); returns [(old uid, new uid), ...]."""
    if to_mailbox == mailbox_id:
        raise InputValidationError({"moveTo": '"moveTo" must differ from the current mailbox'})
    owned_mailbox(user_id, mailbox_id)
    owned_mailbox(user_id, to_mailbox)
    items = resolve(mailbox_id, target)
    if not items:
        raise MessageNotFound()
    moved: list[tuple[int, int]] = []
    for batch in chunks(items, MOVE_BATCH):
        moved += _move_batch(user_id, mailbox_id, to_mailbox, batch, changes)
    return moved


def _read(user_id: str, *mailbox_ids: str) -> tuple[UserItem, list[MailboxItem]]:
    found = batch_get([(UserItem, (user_id,)),
                             *[(MailboxItem, (user_id, mid)) for mid in mailbox_ids]])
    user = found[0]
    if not isinstance(user, UserItem) or user.deleted:
        raise UserNotFound()
    boxes = [box for box in found[1:] if isinstance(box, MailboxItem)]
    if len(boxes) != len(mailbox_ids):
        raise NoSuchMailbox()
    return user, boxes


def copy_of(item: MessageItem) -> MessageItem:
    return MessageItem.from_raw_data(item.serialize())


def _move_batch(user_id: str, source_id: str, target_id: str, batch: list[MessageItem],
                changes: Changes) -> list[tuple[int, int]]:
    """Move one transaction's worth of messages. The new uids and journal numbers are
    claimed first (one ADD each), so moves and uploads into the same mailbox do not
    conflict; a message that changed meanwhile is re-read, one that is gone is left
    out (its claimed uid stays unused)."""
    _, (source, target) = _read(user_id, source_id, target_id)
    junk = target.specialUse == "\\Junk"
    first_uid = mailboxes_store.reserve_uids(user_id, target.id, len(batch))
    if first_uid is None:
        raise NoSuchMailbox()
    uids = {int(item.uid): first_uid + offset for offset, item in enumerate(batch)}
    # As the reference: a moved message takes the target's retention from now (an
    # expiry of its own is dropped), unless the request sets `expires` itself.
    expires = changes.expiry(None) if changes.expires is not None else retention_expiry(target)
    state = {"batch": batch}

    def build(tx: Transaction) -> list[tuple[int, int]]:
        pairs: list[tuple[int, int]] = []
        entries: list[tuple[str, dict[str, Any]]] = []
        size = unseen_out = unseen_in = 0
        for item in state["batch"]:
            new_uid = uids[int(item.uid)]
            moved = copy_of(item)
            moved.flags = changes.flags(item.flags or [], junk=junk)
            if changes.metadata is not None:
                moved.metaData = changes.metadata
            store.set_expiry(moved, expires)
            moved.rev = 0
            moved.register = None
            store.place(moved, target.id, new_uid, flagged_visible(target))
            tx.delete(item, condition=MessageItem.rev == item.rev, label=f"m{int(item.uid)}")
            tx.save(moved, condition=MessageItem.uid.does_not_exist(), label="new")
            size += int(item.size)
            unseen_out += int(SEEN not in (item.flags or []))
            unseen_in += int(SEEN not in moved.flags)
            pairs.append((int(item.uid), new_uid))
            entries.append(("EXPUNGE", {"mailbox": source.id, "uid": int(item.uid),
                                        "message": item.msgid, "thread": item.thread}))
            entries.append(("EXISTS", {"mailbox": target.id, "uid": new_uid,
                                       "message": item.msgid, "idate": int(item.idate),
                                       "thread": item.thread}))
            tx.save(event(user_id, item.msgid, "MOVE", fromMailbox=source.id,
                          fromUid=int(item.uid), mailbox=target.id, uid=new_uid))
        seqs.put(tx, entries)
        if not pairs:
            return pairs
        count = len(pairs)
        tx.update(source, actions=[
            MailboxItem.total.add(-count), MailboxItem.unseen.add(-unseen_out),
            MailboxItem.size.add(-size), MailboxItem.modifyIndex.add(1),
        ], condition=MailboxItem.id.exists(), label="source")
        tx.update(target, actions=[
            MailboxItem.total.add(count), MailboxItem.unseen.add(unseen_in),
            MailboxItem.size.add(size), MailboxItem.modifyIndex.add(1),
        ], condition=MailboxItem.id.exists(), label="target")
        return pairs

    def refresh(failure: TransactionFailed) -> None:
        state["batch"] = _refresh(source_id, state["batch"], failure.failed)

    with journal.reserved(user_id, 2 * len(batch)) as seqs:
        if seqs is None:
            raise UserNotFound()
        return run(build, errors={"source": NoSuchMailbox, "target": NoSuchMailbox},
                   on_retry=refresh)




def history(user_id: str, mailbox_id: str, uid: int) -> tuple[str, list[Any]]:
    """The message's id and its timeline, oldest first (newest last)."""
    item = owned(user_id, mailbox_id, uid)
    return item.msgid, list(timeline(item.msgid))
