"""(Re)building the search index from the messages table: for an installation that
turns search on, an account whose index must be rebuilt, or every account.

A request is a `search-backfill` task (id: the account, or `*` for all), so it survives
until it is done: the scheduled job (`app.reindex_search`) works on the queued tasks
within its budget and saves where it stands after every page, and the next run goes on
from there. Each message is reindexed through the indexer's own `reindex` (under the
message's lease), so a backfill racing the stream, run twice or cut short leaves the
index right. A pass over the account's messages (the `byUser` index) is followed by
one over its index docs, which removes the entries of messages that are gone.

    python -m chalicelib.services.search.backfill [--user ID] [--rebuild] [--queue-only]
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from chalicelib import logs
from chalicelib.services.search.indexer import reindex
from chalicelib.store import search as index
from chalicelib.store.tasks import SEARCH_BACKFILL, TaskItem

ALL = "*"
SAVE_EVERY = 50  # messages between two saves of the position


@dataclass
class Report:
    tasks_done: int = 0
    messages: int = 0
    retry_later: int = 0  # messages whose lease another reader held


def request(user: str | None = None, *, rebuild: bool = False) -> str:
    """Queue a backfill of one account (or all); asking again restarts it."""
    now = time.time()
    task_id = user or ALL
    TaskItem(kind=SEARCH_BACKFILL, id=task_id, user=user or ALL,
             data={"rebuild": rebuild, "phase": "messages"}, created=int(now * 1000),
             notBefore=0).save()
    return task_id


def run(until: float) -> Report:
    """Work on the queued backfills until they are done or `until` (monotonic) comes."""
    report = Report()
    for task in list(TaskItem.query(SEARCH_BACKFILL, consistent_read=True)):
        if time.monotonic() >= until:
            break
        if _work(task, until, report):
            task.delete()
            report.tasks_done += 1
    return report


def _work(task: TaskItem, until: float, report: Report) -> bool:
    """Advance one task; True when it is finished. Its position (`data`): for `*` the
    account being done (`user`); the phase (`messages`, then `docs`) and the last
    message done in it (`after`)."""
    state: dict[str, Any] = dict(task.data.as_dict() if hasattr(task.data, "as_dict")
                                 else task.data or {})
    while True:
        user = state.get("user") if task.id == ALL else task.id
        if user is None:
            user = next(index.users_after(state.get("previousUser")), None)
            if user is None:
                return True
            state.update(user=user, phase="messages", after=None)
        if not _account(user, state, until, report, task):
            return False
        if task.id != ALL:
            return True
        state.update(previousUser=user, user=None, phase="messages", after=None)
        _save(task, state)


def _account(user: str, state: dict[str, Any], until: float, report: Report,
             task: TaskItem) -> bool:
    rebuild = bool(state.get("rebuild"))
    done = 0
    while state.get("phase") in ("messages", "docs"):
        if state["phase"] == "messages":
            found = ((item.userDateKey, {(item.mailbox, int(item.uid))})
                     for item in index.messages_after(user, state.get("after")))
        else:
            found = ((doc.sort, set()) for doc in index.docs_of(user, state.get("after")))
        finished = True
        for sort, places in found:
            if time.monotonic() >= until:
                finished = False
                break
            if not reindex(user, sort, places, rebuild=rebuild and state["phase"] == "messages"):
                report.retry_later += 1
            report.messages += 1
            state["after"] = sort
            done += 1
            if done % SAVE_EVERY == 0:
                _save(task, state)
        if not finished:
            _save(task, state)
            return False
        state.update(phase="docs" if state["phase"] == "messages" else "done", after=None)
    return True


def _save(task: TaskItem, state: dict[str, Any]) -> None:
    task.data = state
    task.save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the search index from the "
                                                 "messages table (one account or all).")
    parser.add_argument("--user", help="the account's id (default: every account)")
    parser.add_argument("--rebuild", action="store_true",
                        help="read every message's text again and rewrite its postings")
    parser.add_argument("--queue-only", action="store_true",
                        help="only queue it; the scheduled job `reindex_search` runs it")
    args = parser.parse_args(argv)
    task = request(args.user, rebuild=args.rebuild)
    if args.queue_only:
        print(f"queued search-backfill {task}")
        return 0
    report = run(time.monotonic() + 10 ** 9)
    logs.info("search-backfill", tasksDone=report.tasks_done, messages=report.messages,
              retryLater=report.retry_later)
    print(f"reindexed {report.messages} messages ({report.retry_later} left to the stream)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
