"""Call budgets of search and indexing (deterministic counts, never times)."""
from __future__ import annotations

from chalicelib.store.messages import MessageItem
from devstack.calls import counting
from devstack.mailfill import preload_index, preload_mailbox


def test_a_one_word_first_page_costs_the_same_at_30_and_1000_messages(api, account) -> None:
    costs = {}
    for count, box in ((30, account.boxes["Drafts"]), (1000, account.inbox)):
        preload_mailbox(account.id, box, count)
        preload_index(account.id, box)
        with counting() as log:
            reply = api.get(f"/users/{account.id}/search?mailbox={box}&query=hello")
        assert (reply.status, reply["total"], len(reply["results"])) == (200, count, 20)
        # the mailboxes (1 Query), one page of postings, their COUNT, the page's items
        costs[count] = log.by_operation()
        with counting() as log:
            second = api.get(f"/users/{account.id}/search?mailbox={box}&query=hello"
                             f"&next={reply['nextCursor']}")
        assert len(second["results"]) == 10 if count == 30 else 20
        assert log.by_operation() == costs[count]
    assert costs[30] == costs[1000] == {"Query": 3, "BatchGetItem": 1}


def test_indexing_writes_once_per_term_and_flag_changes_cost_nothing(api, account, put,
                                                                     stream) -> None:
    body = " ".join(f"word{n}" for n in range(60))
    uid = put("Subject words", body)
    with counting() as log:
        stream.pump()
    # claim + settle, 1 read of the message, postings 25 a call (60 + subject/addresses);
    # the address register records the sender (1 UpdateItem)
    ops = log.by_operation()
    assert (ops["UpdateItem"], ops["BatchGetItem"], ops["BatchWriteItem"]) == (3, 1, 3)
    assert log.count("s3") == 0  # a small body is on the item

    assert api.put(account.messages() + f"/{uid}", {"seen": False}).status == 200
    with counting() as log:
        stream.pump()
    assert log.by_operation() == {}  # only the stream read itself

    moved = api.put(account.messages() + f"/{uid}", {"moveTo": account.boxes["Drafts"]})
    with counting() as log:
        stream.pump()
    ops = log.by_operation()
    assert (ops["UpdateItem"], ops["BatchGetItem"], ops["BatchWriteItem"]) == (2, 1, 3)
    [item] = list(MessageItem.query(account.boxes["Drafts"]))
    assert int(item.uid) == moved["id"][0][1]
