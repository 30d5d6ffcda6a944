"""services/outbound.send: limits, once per dedupe key, at-least-once after a crash."""
from __future__ import annotations

import time
from unittest import mock

import pytest

from chalicelib.errors import (Conflict, MessageRejected, SendingLimitReached, UserDisabled,
                               UserNotFound)
from chalicelib.services import outbound
from chalicelib.store.users import UserItem
from tests.support import race, sent_mail

RAW = (b"From: Mail User <mailuser@example.com>\r\nTo: bob@other.test\r\n"
       b"Subject: Outbound\r\nMessage-ID: <out-1@example.com>\r\n\r\nHello\r\n")


def send(user: str, key: str = "k1", to: tuple[str, ...] = ("bob@other.test",),
         purpose: outbound.Purpose = "submit", sender: str = "mailuser@example.com"
         ) -> outbound.Sent:
    return outbound.send(user, RAW, sender, to, purpose, key)


def counters(user: str) -> dict:
    item = UserItem.get(user, consistent_read=True)
    return {name: outbound.usage(item, name, int(time.time())).used
            for name in ("recipients", "forwards")}


def test_send_reaches_ses_and_counts_every_recipient(account):
    sent = send(account.id, to=("bob@other.test", "carol@other.test", "Bob@other.test"))
    assert not sent.duplicate and sent.recipients == ("bob@other.test", "carol@other.test")
    [mail] = sent_mail()
    assert mail["id"] == sent.message_id and mail["source"] == "mailuser@example.com"
    assert mail["subject"] == "Outbound"
    assert {"bob@other.test", "carol@other.test"} <= set(mail["destinations"])
    assert counters(account.id) == {"recipients": 2, "forwards": 0}


def test_user_limits_report_the_open_window(account, api):
    send(account.id, to=("a@other.test", "b@other.test"))
    send(account.id, key="f", purpose="forward")
    limits = api.get(f"/users/{account.id}")["limits"]
    assert limits["recipients"]["used"] == 2 and limits["recipients"]["allowed"] == 2000
    assert 24 * 3600 - 60 < limits["recipients"]["ttl"] <= 24 * 3600
    assert limits["forwards"]["used"] == 1


def test_same_key_sends_once_and_counts_once(account):
    first = send(account.id)
    again = send(account.id)
    assert again.duplicate and again.message_id == first.message_id
    assert len(sent_mail()) == 1
    assert counters(account.id)["recipients"] == 1
    other = send(account.id, key="k2")  # another key is another mail
    assert not other.duplicate and len(sent_mail()) == 2


def test_forwards_count_against_forwards_and_autoreplies_against_nothing(account):
    send(account.id, key="f", to=("a@other.test", "b@other.test"), purpose="forward")
    send(account.id, key="a", purpose="autoreply")
    assert counters(account.id) == {"recipients": 0, "forwards": 2}
    assert len(sent_mail()) == 2


def test_limit_refuses_once_used_up_and_counts_nothing_refused(account, api):
    assert api.put(f"/users/{account.id}", {"recipients": 3}).status == 200
    send(account.id, key="1", to=("a@other.test", "b@other.test"))
    send(account.id, key="2", to=("c@other.test", "d@other.test"))  # crosses, as in WildDuck
    with pytest.raises(SendingLimitReached) as refused:
        send(account.id, key="3")
    assert refused.value.status == 403 and refused.value.code == "RateLimitedError"
    assert "daily sending limit" in refused.value.message
    assert 23 * 3600 < refused.value.extra["retryAfter"] <= 24 * 3600
    assert counters(account.id)["recipients"] == 4 and len(sent_mail()) == 2
    with pytest.raises(SendingLimitReached):
        send(account.id, key="3")  # the refused key was not recorded: refused again


def test_window_closes_after_a_day(account, api):
    assert api.put(f"/users/{account.id}", {"recipients": 1}).status == 200
    send(account.id, key="1")
    day_later = time.time() + outbound.WINDOW_S + 1
    with mock.patch("chalicelib.services.outbound.time.time", return_value=day_later):
        send(account.id, key="2")
        item = UserItem.get(account.id, consistent_read=True)
        assert outbound.usage(item, "recipients", int(day_later)).used == 1


def test_crash_after_the_record_is_sent_by_the_retry_and_counted_once(account):
    with mock.patch.object(outbound, "_ses", side_effect=SystemExit("killed")):
        with pytest.raises(SystemExit):
            send(account.id)
    assert sent_mail() == [] and counters(account.id)["recipients"] == 1
    with pytest.raises(Conflict):  # the lease of the crashed call is still live
        send(account.id)
    later = time.time() + outbound.LEASE_S + 1
    with mock.patch("chalicelib.services.outbound.time.time", return_value=later):
        retried = send(account.id)
        assert not retried.duplicate
        assert send(account.id).duplicate
    assert len(sent_mail()) == 1 and counters(account.id)["recipients"] == 1


def test_ses_rejection_sends_nothing_and_gives_the_count_back(account):
    with pytest.raises(MessageRejected) as rejected:
        send(account.id, sender="someone@unverified.test")
    assert rejected.value.status == 400
    assert counters(account.id)["recipients"] == 0
    assert send(account.id).duplicate is False  # the key is free again
    assert len(sent_mail()) == 1


def test_unknown_and_disabled_accounts_send_nothing(account, api):
    with pytest.raises(UserNotFound):
        send("0" * 24)
    assert api.put(f"/users/{account.id}", {"disabled": True}).status == 200
    with pytest.raises(UserDisabled):
        send(account.id)
    assert sent_mail() == []


def test_limit_is_exact_under_concurrency(account, api, serialized_aws):
    assert api.put(f"/users/{account.id}", {"recipients": 5}).status == 200
    results, errors = race(12, lambda n: send(account.id, key=f"c{n}"))
    assert len(results) == 5 and len(errors) == 7
    assert all(isinstance(error, SendingLimitReached) for error in errors)
    assert counters(account.id)["recipients"] == 5 and len(sent_mail()) == 5


def test_one_key_sent_concurrently_leaves_one_mail(account, serialized_aws):
    results, errors = race(6, lambda n: send(account.id))
    assert all(isinstance(error, Conflict) for error in errors)
    assert sum(not sent.duplicate for sent in results) == 1
    assert len(sent_mail()) == 1 and counters(account.id)["recipients"] == 1


def test_rejection_after_a_crash_gives_the_original_count_back(account):
    with mock.patch.object(outbound, "_ses", side_effect=SystemExit("killed")):
        with pytest.raises(SystemExit):
            send(account.id, sender="someone@unverified.test")
    assert counters(account.id)["recipients"] == 1
    later = time.time() + outbound.LEASE_S + 1
    with mock.patch("chalicelib.services.outbound.time.time", return_value=later):
        with pytest.raises(MessageRejected):
            send(account.id, sender="someone@unverified.test")
    assert counters(account.id)["recipients"] == 0 and sent_mail() == []
