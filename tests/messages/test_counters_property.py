"""Property: whatever sequence of uploads, flag changes, moves, deletes and restores
runs, every mailbox's counters and the account's storageUsed equal a recount."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.errors import OverQuotaError
from chalicelib.schemas.users import CreateUser
from chalicelib.services import archive, message_updates, users
from chalicelib.services import messages as service
from chalicelib.services.message_updates import Changes
from chalicelib.services.messages import NewMessage
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import FLAGGED, SEEN, MessageItem
from chalicelib.store.users import UserItem
from tests.support import mailbox_ids, simple_message

BOXES = ("INBOX", "Drafts", "Trash")
_names = itertools.count()

operation = st.tuples(
    st.sampled_from(["upload", "seen", "flag", "move", "delete", "restore"]),
    st.integers(0, 50), st.integers(0, 2), st.booleans())


def _uids(box: str) -> list[int]:
    return [int(item.uid) for item in MessageItem.query(box, consistent_read=True)]


def _apply(user: str, boxes: dict[str, str], op: tuple[str, int, int, bool]) -> None:
    kind, pick, target, flag = op
    box = boxes[BOXES[pick % 3]]
    uids = _uids(box)
    uid = uids[pick % len(uids)] if uids else None
    if kind == "upload":
        try:
            service.upload(user, box, NewMessage(raw=simple_message(body="x" * (pick * 7)),
                                                 seen=flag, flagged=not flag))
        except OverQuotaError:
            pass
    elif uid is not None and kind == "seen":
        message_updates.update(user, box, f"{uid}:*", Changes(seen=flag))
    elif uid is not None and kind == "flag":
        message_updates.update(user, box, str(uid), Changes(flagged=flag))
    elif uid is not None and kind == "move" and boxes[BOXES[target]] != box:
        message_updates.move(user, box, f"{uid}:*", boxes[BOXES[target]], Changes())
    elif uid is not None and kind == "delete":
        archive.delete(user, box, uid)
    elif kind == "restore":
        archived = list(ArchivedItem.query(user))
        if archived:
            chosen = archived[pick % len(archived)]
            try:
                archive.restore(user, chosen.id, boxes[BOXES[target]] if flag else None)
            except OverQuotaError:
                pass


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=14))
def test_counters_and_storage_always_equal_a_recount(ops):
    user = users.create(CreateUser(username=f"prop{next(_names)}", password=False,
                                   emptyAddress=True, quota=2500))
    boxes = {path: mailbox_id for path, mailbox_id in mailbox_ids(user).items()
             if path in BOXES}
    for op in ops:
        _apply(user, boxes, op)
    stored = 0
    for path, box in boxes.items():
        items = list(MessageItem.query(box, consistent_read=True))
        counters = MailboxItem.get(user, box, consistent_read=True)
        assert int(counters.total) == len(items)
        assert int(counters.unseen) == sum(SEEN not in (i.flags or []) for i in items)
        assert int(counters.size) == sum(int(i.size) for i in items)
        assert int(counters.uidNext) > max((int(i.uid) for i in items), default=0)
        for item in items:
            visible = FLAGGED in (item.flags or []) and path != "Trash"
            assert bool(item.flaggedKey) == visible
        stored += int(counters.size)
    account = UserItem.get(user, consistent_read=True)
    assert int(account.storageUsed) == stored <= 2500
