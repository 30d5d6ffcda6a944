"""Property: after any sequence of uploads, moves, flag changes, deletes and restores,
with the stream's records delivered late, in any order, some of them twice, a search
for any word finds exactly the live messages that contain it."""
from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.schemas.users import CreateUser
from chalicelib.services import archive, message_updates, users
from chalicelib.services import messages as service
from chalicelib.services.message_updates import Changes
from chalicelib.services.messages import NewMessage
from chalicelib.services.search.query import Criteria, search
from chalicelib.store import search as index
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.messages import MessageItem
from tests.support import mailbox_ids, simple_message

BOXES = ("INBOX", "Drafts", "Trash")
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon")
_names = itertools.count()

operation = st.tuples(st.sampled_from(["upload", "upload", "flag", "move", "delete", "restore"]),
                      st.integers(0, 50), st.integers(0, 2), st.booleans())


def _apply(user: str, boxes: dict[str, str], op: tuple[str, int, int, bool]) -> None:
    kind, pick, target, flag = op
    box = boxes[BOXES[pick % 3]]
    uids = [int(i.uid) for i in MessageItem.query(box, consistent_read=True)]
    uid = uids[pick % len(uids)] if uids else None
    if kind == "upload":
        body = " ".join(w for n, w in enumerate(WORDS) if (pick >> n) & 1)
        service.upload(user, box, NewMessage(raw=simple_message(f"m{pick}", body), seen=flag))
    elif uid is not None and kind == "flag":
        message_updates.update(user, box, str(uid), Changes(flagged=flag, seen=not flag))
    elif uid is not None and kind == "move" and boxes[BOXES[target]] != box:
        message_updates.move(user, box, f"{uid}:*", boxes[BOXES[target]], Changes())
    elif uid is not None and kind == "delete":
        archive.delete(user, box, uid)
    elif kind == "restore":
        archived = list(ArchivedItem.query(user))
        if archived:
            archive.restore(user, archived[pick % len(archived)].id, boxes[BOXES[target]])


def _found(user: str, word: str) -> set[tuple[str, int]]:
    total, page = search(user, Criteria(query=word, searchable=False), limit=250)
    found = {(item.mailbox, int(item.uid)) for item in page.items}
    assert total == len(found)
    return found


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=14), st.integers(0, 2**32))
def test_search_finds_exactly_the_live_messages_whatever_the_delivery(stream, ops, seed):
    rng = random.Random(seed)
    user = users.create(CreateUser(username=f"idx{next(_names)}", password=False,
                                   emptyAddress=True))
    boxes = {path: box for path, box in mailbox_ids(user).items() if path in BOXES}
    pending, delivered = [], []
    for op in ops:
        _apply(user, boxes, op)
        pending += stream.read()
        if pending and rng.random() < 0.5:  # deliver some now, late and out of order
            now = rng.sample(pending, k=rng.randint(1, len(pending)))
            pending = [r for r in pending if r not in now]
            stream.deliver(now + rng.sample(now, k=len(now) // 2))
            delivered += now
    pending += stream.read()
    rng.shuffle(pending)
    replay = rng.sample(delivered, k=len(delivered) // 2)  # a retried batch, once more
    assert stream.deliver(pending + replay) == {"batchItemFailures": []}

    live = [item for box in boxes.values() for item in MessageItem.query(box)]
    for word in WORDS:
        expected = {(i.mailbox, int(i.uid)) for i in live
                    if word in service.full_view(i).text.split()}
        assert _found(user, word) == expected, word
    # nothing is left behind for messages that are gone
    docs = {doc.sort for doc in index.docs_of(user)}
    assert docs == {item.userDateKey for item in live}
