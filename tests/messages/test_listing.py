"""Mailbox listings, the flagged view and thread grouping."""
from __future__ import annotations

import pytest

from devstack import mailfill
from devstack.calls import counting
from tests.support import simple_message, upload_raw


def ids(reply) -> list[int]:
    assert reply.status == 200, reply
    return [m["id"] for m in reply["results"]]


def test_listing_is_newest_first_by_internal_date_and_ascending_on_request(api, account):
    for day in ("2024-01-03", "2024-01-01", "2024-01-02"):
        upload_raw(api, account, simple_message(day), query=f"date={day}T00:00:00Z")
    assert ids(api.get(account.messages())) == [1, 3, 2]
    assert ids(api.get(account.messages() + "?order=asc")) == [2, 3, 1]
    listed = api.get(account.messages()).json
    assert listed["total"] == 3 and listed["specialUse"] is None
    assert listed["nextCursor"] is False and listed["previousCursor"] is False


def test_cursors_page_forward_and_back(api, account):
    mailfill.fill_mailbox(account.id, account.inbox, 25)
    first = api.get(account.messages() + "?limit=10")
    assert ids(first) == list(range(25, 15, -1)) and first["previousCursor"] is False
    second = api.get(account.messages() + f"?limit=10&page=2&next={first['nextCursor']}")
    assert ids(second) == list(range(15, 5, -1)) and second["page"] == 2
    third = api.get(account.messages() + f"?limit=10&next={second['nextCursor']}")
    assert ids(third) == [5, 4, 3, 2, 1] and third["nextCursor"] is False
    back = api.get(account.messages() + f"?limit=10&previous={third['previousCursor']}")
    assert ids(back) == ids(second)
    back_again = api.get(account.messages() + f"?limit=10&previous={back['previousCursor']}")
    assert ids(back_again) == ids(first) and back_again["previousCursor"] is False
    assert all(r.json["total"] == 25 for r in (first, second, third, back))


def test_a_cursor_only_works_for_its_own_mailbox(api, account):
    mailfill.fill_mailbox(account.id, account.inbox, 3)
    cursor = api.get(account.messages() + "?limit=1")["nextCursor"]
    other = api.get(account.messages(account.boxes["Sent Mail"]) + f"?next={cursor}")
    assert other.status == 400 and other["code"] == "InputValidationError"


def test_unseen_filter_lists_unseen_messages_with_the_unseen_counter_as_total(api, account):
    mailfill.fill_mailbox(account.id, account.inbox, 12, unseen_every=3)
    reply = api.get(account.messages() + "?unseen=true")
    assert ids(reply) == [12, 9, 6, 3] and reply["total"] == 4
    assert all(m["seen"] is False for m in reply["results"])


def test_listing_a_page_of_20_costs_the_same_for_20_and_20000_messages(api, account):
    small, large = account.boxes["Drafts"], account.inbox
    mailfill.preload_mailbox(account.id, small, 20)
    mailfill.preload_mailbox(account.id, large, 20_000)
    try:
        costs = []
        for box in (small, large):
            with counting(measure_capacity=True) as calls:
                reply = api.get(account.messages(box))
            assert len(reply["results"]) == 20
            assert calls.by_operation("dynamodb") == {"GetItem": 1, "Query": 1}
            costs.append(calls.capacity)
        assert reply["total"] == 20_000 and reply["nextCursor"]
        assert abs(costs[1] - costs[0]) <= 0.1 * costs[0], costs
        # a page deep inside the large mailbox costs the same again
        with counting(measure_capacity=True) as calls:
            deeper = api.get(account.messages(large) + f"?next={reply['nextCursor']}")
        assert ids(deeper)[0] == 19_980
        assert calls.by_operation("dynamodb") == {"GetItem": 1, "Query": 1}
        assert abs(calls.capacity - costs[0]) <= 0.1 * costs[0]
    finally:
        mailfill.drop_mailbox(large)


def test_flagged_view_spans_mailboxes_but_skips_junk_and_trash(api, account):
    for index, box in enumerate(("INBOX", "Sent Mail", "Junk", "Trash", "Drafts")):
        upload_raw(api, account, simple_message(f"in {box}"), box=account.boxes[box],
                   query=f"flagged={'true' if box != 'Drafts' else 'false'}"
                         f"&date=2024-01-0{index + 1}T00:00:00Z")
    reply = api.get(f"/users/{account.id}/flagged")
    assert reply.status == 200, reply
    assert [m["subject"] for m in reply["results"]] == ["in Sent Mail", "in INBOX"]
    assert reply["total"] == 2 and all(m["flagged"] for m in reply["results"])
    asc = api.get(f"/users/{account.id}/flagged?order=asc")
    assert [m["subject"] for m in asc["results"]] == ["in INBOX", "in Sent Mail"]
    paged = api.get(f"/users/{account.id}/flagged?limit=1")
    assert paged["total"] == 2 and len(paged["results"]) == 1
    following = api.get(f"/users/{account.id}/flagged?limit=1&next={paged['nextCursor']}")
    assert [m["subject"] for m in following["results"]] == ["in INBOX"]


@pytest.fixture
def thread_of(api, account):
    def find(uid: int) -> str:
        return api.get(f"{account.messages()}/{uid}")["thread"]
    return find


def test_replies_join_the_thread_of_the_message_they_reference(api, account, thread_of):
    upload_raw(api, account, simple_message("Plans", message_id="<root@example.com>"))
    upload_raw(api, account, simple_message(
        "Something else entirely", message_id="<reply@example.com>",
        extra="In-Reply-To: <root@example.com>\r\nReferences: <root@example.com>"))
    upload_raw(api, account, simple_message(
        "Re: Plans", message_id="<reply2@example.com>",
        extra="References: <root@example.com> <reply@example.com>"))
    assert thread_of(1) == thread_of(2) == thread_of(3)


def test_same_subject_joins_a_recent_thread_and_a_new_subject_starts_one(api, account, thread_of):
    upload_raw(api, account, simple_message("Lunch on Friday?"))
    upload_raw(api, account, simple_message("RE: Fwd: lunch on friday?"))
    upload_raw(api, account, simple_message("Quarterly numbers"))
    assert thread_of(1) == thread_of(2)
    assert thread_of(3) != thread_of(1)


def test_a_parent_arriving_after_its_reply_joins_the_reply_thread(api, account, thread_of):
    upload_raw(api, account, simple_message(
        "Answer", message_id="<child@example.com>", extra="In-Reply-To: <parent@example.com>"))
    upload_raw(api, account, simple_message("Question", message_id="<parent@example.com>"))
    assert thread_of(1) == thread_of(2)
