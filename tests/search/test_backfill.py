"""Backfill: an index that was never fed (or lost entries) rebuilt from the messages
table, resumably and idempotently, for one account or all."""
from __future__ import annotations

import time
from typing import Any

from chalicelib.services.search import backfill
from chalicelib.store import search as index
from chalicelib.store.search import PostingItem
from chalicelib.store.tasks import SEARCH_BACKFILL, TaskItem
from tests.support import Account, mailbox_ids, simple_message, upload_raw


def _search(api: Any, user: str, word: str) -> Any:
    reply = api.get(f"/users/{user}/search?query={word}&searchable=false")
    assert reply.status == 200, reply
    return reply


def _total(api: Any, user: str, word: str) -> int:
    return int(_search(api, user, word)["total"])


def test_a_cut_short_backfill_resumes_and_indexes_every_message(api, account, put,
                                                                 monkeypatch) -> None:
    for n in range(7):
        put(f"old {n}", "archaeology")
    assert _total(api, account.id, "archaeology") == 0  # the stream was never read
    monkeypatch.setattr(backfill, "SAVE_EVERY", 2)
    backfill.request(account.id)
    clock = iter(range(1000))
    monkeypatch.setattr(backfill.time, "monotonic", lambda: next(clock))
    runs = 0
    while list(TaskItem.query(SEARCH_BACKFILL)):
        start = next(clock)
        report = backfill.run(start + 4)  # a few messages per run
        runs += 1
        assert report.messages <= 4
    assert runs > 2
    assert _total(api, account.id, "archaeology") == 7


def test_backfill_is_idempotent_and_drops_what_is_gone(api, account, put, stream) -> None:
    uid = put("to go", "ephemeral words")
    put("to stay", "ephemeral words")
    stream.pump()
    assert api.delete(account.messages() + f"/{uid}").status == 200
    stream.read()  # the deletion's record is lost
    stale = _search(api, account.id, "ephemeral")
    # the stale entry is never shown, but counted until the backfill removes it
    assert (len(stale["results"]), stale["total"]) == (1, 2)
    assert len(list(index.docs_of(account.id))) == 2
    for _ in range(2):
        backfill.request(account.id)
        report = backfill.run(time.monotonic() + 60)
        assert report.tasks_done == 1
    assert len(list(index.docs_of(account.id))) == 1
    assert _total(api, account.id, "ephemeral") == 1
    assert list(PostingItem.query(index.posting_key(account.id, "go"))) == []


def test_rebuild_restores_lost_postings_of_every_account(app, api, make_user, account, put,
                                                          stream) -> None:
    from devstack.jobs import invoke, scheduled_jobs
    other_id = make_user("other", address="other@example.com")
    upload_raw(api, Account(other_id, mailbox_ids(other_id)), simple_message("x", "tulip"))
    put("mine", "tulip")
    stream.pump()
    for posting in PostingItem.scan():
        posting.delete()  # a damaged index: docs without postings
    assert _total(api, account.id, "tulip") == 0
    result = invoke(scheduled_jobs(app)["reindex_search"], {"all": True, "rebuild": True})
    assert result["tasksDone"] == 1 and result["messages"] >= 4  # 2 messages + 2 docs
    assert _total(api, account.id, "tulip") == _total(api, other_id, "tulip") == 1


def test_the_command_queues_or_runs_a_backfill(api, account, put, capsys) -> None:
    put("cli", "heron")
    assert backfill.main(["--user", account.id, "--queue-only"]) == 0
    assert [t.id for t in TaskItem.query(SEARCH_BACKFILL)] == [account.id]
    assert _total(api, account.id, "heron") == 0
    assert backfill.main(["--user", account.id]) == 0
    assert "reindexed 2 messages" in capsys.readouterr().out  # the message, then its doc
    assert (_total(api, account.id, "heron"), list(TaskItem.query(SEARCH_BACKFILL))) == (1, [])
