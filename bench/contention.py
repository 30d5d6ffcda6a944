"""Contention benchmark: N parallel writes to one mailbox, each AWS call atomic (as
DynamoDB applies it) with a short pause inside so the threads really interleave.

Prints, per scenario, how many succeeded, the TransactWriteItems attempts they took
(attempts above the successes are transactions lost to a race and retried), and the
counters against a recount. Run with `make bench` or `python -m bench.contention`.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable
from unittest import mock

from bench.harness import setup

ROUND_TRIP_S = 0.002


def _atomic_calls(counter: dict[str, int]) -> Any:
    from botocore.client import BaseClient
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            counter[operation] = counter.get(operation, 0) + 1
            time.sleep(ROUND_TRIP_S)
            return original(client, operation, params)
    return mock.patch.object(BaseClient, "_make_api_call", call)


def _race(count: int, work: Callable[[int], Any]) -> tuple[int, list[str]]:
    barrier = threading.Barrier(count)
    done: list[Any] = []
    errors: list[str] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            done.append(work(n))
        except Exception as error:  # noqa: BLE001 - reported
            errors.append(type(error).__name__)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done), errors


def _errors(errors: list[str]) -> str:
    return ", ".join(f"{errors.count(name)} {name}" for name in sorted(set(errors))) or "-"


def main() -> None:
    from devstack.motopatch import install
    install()
    setup()
    from chalicelib.schemas.users import CreateUser
    from chalicelib.services import message_updates, messages, users
    from chalicelib.store.mailboxes import MailboxItem
    from chalicelib.store.messages import MessageItem

    raw = b"From: a@example.com\r\nSubject: contention\r\n\r\nbody\r\n"
    print(f"{'scenario':<44} {'ok':>4} {'errors':<14} {'tx attempts':>11}  counters")
    for count in (10, 50, 100):
        user = users.create(CreateUser(username=f"contention{count}", password="x" * 12))
        boxes = {box.path: box.id for box in MailboxItem.query(user)}
        inbox, trash = boxes["INBOX"], boxes["Trash"]
        calls: dict[str, int] = {}
        with _atomic_calls(calls):
            ok, errors = _race(count, lambda _: messages.upload(
                user, inbox, messages.NewMessage(raw=raw)))
        box = MailboxItem.get(user, inbox)
        exact = box.total == len(list(MessageItem.query(inbox))) == ok
        print(f"{f'{count} parallel uploads, one mailbox':<44} {ok:>4} "
              f"{_errors(errors):<14} {calls.get('TransactWriteItems', 0):>11}  "
              f"{'exact' if exact else 'DRIFT'}")
        calls = {}
        with _atomic_calls(calls):
            ok, errors = _race(count // 2, lambda n: message_updates.move(
                user, inbox, str(n + 1), trash, message_updates.Changes()))
        moved = MailboxItem.get(user, trash).total == len(list(MessageItem.query(trash)))
        print(f"{f'{count // 2} parallel moves, one target':<44} {ok:>4} "
              f"{_errors(errors):<14} {calls.get('TransactWriteItems', 0):>11}  "
              f"{'exact' if moved else 'DRIFT'}")


if __name__ == "__main__":
    main()
