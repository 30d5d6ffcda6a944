"""Writers that claim journal numbers first (uploads, flag changes) race a reader that
resumes again and again: the reader sees every entry exactly once, in order."""
from __future__ import annotations

import random
import threading
import time
from unittest import mock

from chalicelib.services import message_updates
from chalicelib.services import messages as service
from chalicelib.services.messages import NewMessage
from chalicelib.services.realtime import journal_reader
from chalicelib.store import journal
from chalicelib.store.journal import NOOP, JournalItem
from chalicelib.store.users import UserItem
from tests.support import simple_message

WRITERS = 4
ROUNDS = 12


class Failed(Exception):
    pass


def test_a_resuming_reader_sees_every_entry_once_in_order(account, serialized_aws):
    reserve = journal.reserve

    def slow_reserve(user_id: str, count: int) -> journal.Reservation | None:
        claimed = reserve(user_id, count)
        time.sleep(random.uniform(0, 0.004))  # widen the window between claim and commit
        return claimed

    def writer(n: int) -> None:
        rng = random.Random(n)
        for round_ in range(ROUNDS):
            choice = rng.random()
            if choice < 0.5 or round_ == 0:
                service.upload(account.id, account.inbox,
                               NewMessage(raw=simple_message(f"w{n} r{round_}")))
            elif choice < 0.85:
                message_updates.update(account.id, account.inbox, "1:*",
                                       message_updates.Changes(seen=rng.random() < 0.5))
            else:  # a write that fails after claiming: its numbers become NOOPs
                try:
                    with journal.reserved(account.id, 2):
                        raise Failed()
                except Failed:
                    pass

    seen: list[int] = []
    waits = 0
    done = threading.Event()

    def reader() -> None:
        nonlocal waits
        position = 0
        while True:
            finished = done.is_set()
            user = UserItem.get(account.id, consistent_read=True)
            newest = int(user.journalSeq or 0)
            batch = journal_reader.read(account.id, position, newest=newest,
                                        newest_at=user.journalAt)
            assert not batch.resync
            seen.extend(entry.seq for entry in batch.entries)
            position = batch.position
            waits += batch.waiting
            if finished and position == newest and not batch.waiting:
                return
            time.sleep(0.002)

    with mock.patch.object(journal, "reserve", slow_reserve):
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        follower = threading.Thread(target=reader)
        follower.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        follower.join(timeout=60)
    assert not follower.is_alive()
    written = [int(item.seq) for item in JournalItem.query(account.id)
               if item.command != NOOP]
    assert seen == written  # each once, in order, none left out
    assert len(written) >= WRITERS * ROUNDS // 2
    print(f"{len(written)} entries, reader waited on a gap {waits} times")


def test_a_resume_while_the_next_number_is_in_flight_waits_instead_of_resyncing(account):
    """A claim made, its entry not yet written: nothing follows the resume point, yet it
    has not expired either. The reader waits for it; only an old claim means expiry."""
    claim = journal.reserve(account.id, 1)
    assert claim is not None and claim.first == 1
    user = UserItem.get(account.id, consistent_read=True)
    batch = journal_reader.read(account.id, 0, newest=1, newest_at=user.journalAt)
    assert batch.waiting and not batch.resync
    later = user.journalAt / 1000 + 3 * 3600
    stale = journal_reader.read(account.id, 0, newest=1, newest_at=user.journalAt, now=later)
    assert stale.resync
