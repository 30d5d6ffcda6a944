"""Mail to a forwarded address: passed on to its targets, counted against the address's
own daily `forwards` limit, refused when suspended, retried without a second copy."""
from __future__ import annotations

import pytest

from chalicelib.services import delivery, outbound
from tests.delivery.mailshapes import inbound, ses_event
from tests.support import race, sent_mail


def forwarded(api, **body):
    reply = api.post("/addresses/forwarded", body)
    assert reply.status == 200, reply
    return reply["id"]


def limits(api, address_id):
    return api.get(f"/addresses/forwarded/{address_id}")["limits"]["forwards"]


def statuses(result):
    return [(r["status"], r["response"]) for r in result["recipients"]]


def test_mail_is_passed_on_to_every_email_target_and_counted(api):
    address_id = forwarded(api, address="team@example.com",
                           targets=["one@elsewhere.example", "two@elsewhere.example",
                                    "smtp://relay.example:25"])
    result = delivery.from_ses(ses_event(inbound(to="team@example.com"),
                                         ["Team@Example.com"]))
    assert statuses(result) == [("forwarded", "250 2.0.0 Forwarded")]
    [sent] = sent_mail()
    assert {"one@elsewhere.example", "two@elsewhere.example"} <= set(sent["destinations"])
    assert sent["source"] == "team@example.com" and sent["subject"] == "Quarterly report"
    counted = limits(api, address_id)
    assert (counted["allowed"], counted["used"]) == (2000, 2)  # the relay is skipped
    assert 86000 < counted["ttl"] <= 86400


def test_the_same_delivery_three_times_forwards_once_and_counts_once(api):
    address_id = forwarded(api, address="team@example.com", targets=["one@elsewhere.example"])
    event = ses_event(inbound(), ["team@example.com"])
    for _ in range(3):
        assert statuses(delivery.from_ses(event))[0][0] == "forwarded"
    assert len(sent_mail()) == 1
    assert limits(api, address_id)["used"] == 1


def test_the_address_limit_is_its_own_and_a_used_up_limit_is_a_temporary_refusal(
        api, account):
    address_id = forwarded(api, address="team@example.com", forwards=2,
                           targets=["one@elsewhere.example"])
    answers = [statuses(delivery.from_ses(ses_event(inbound(subject=f"n{n}"),
                                                    ["team@example.com"])))[0]
               for n in range(3)]
    assert answers[:2] == [("forwarded", "250 2.0.0 Forwarded")] * 2
    assert answers[2][0] == "ratelimited" and answers[2][1].startswith("450 4.")
    assert len(sent_mail()) == 2
    assert limits(api, address_id)["used"] == 2
    # an account's forwards are counted apart from the address's
    assert api.get(f"/users/{account.id}")["limits"]["forwards"]["used"] == 0


def test_a_suspended_address_refuses_and_a_deleted_one_is_unknown(api):
    address_id = forwarded(api, address="team@example.com", targets=["one@elsewhere.example"])
    assert api.put(f"/addresses/forwarded/{address_id}",
                   {"forwardedDisabled": True}).status == 200
    result = delivery.from_ses(ses_event(inbound(), ["team@example.com"]))
    assert statuses(result) == [("disabled", "550 5.2.1 Mailbox disabled")]
    assert api.delete(f"/addresses/forwarded/{address_id}").status == 200
    result = delivery.from_ses(ses_event(inbound(), ["team@example.com"]))
    assert statuses(result)[0][0] == "unknown"
    assert sent_mail() == []


def test_spam_is_accepted_and_not_passed_on(api):
    address_id = forwarded(api, address="team@example.com", targets=["one@elsewhere.example"])
    result = delivery.from_ses(ses_event(inbound(), ["team@example.com"], spam="FAIL"))
    assert statuses(result) == [("spam", "250 2.0.0 Not forwarded: spam")]
    assert sent_mail() == [] and limits(api, address_id)["used"] == 0


def test_a_catch_all_forwarded_address_takes_unknown_local_parts(api, account):
    forwarded(api, address="*@catchall.example", allowWildcard=True,
              targets=["inbox@elsewhere.example"])
    result = delivery.from_ses(ses_event(inbound(), ["anyone@catchall.example",
                                                     "mailuser@example.com"]))
    assert [s for s, _ in statuses(result)] == ["forwarded", "stored"]
    assert delivery.recipient_known("whoever@catchall.example")
    assert not delivery.recipient_known("whoever@example.com")  # no catch-all there
    resolved = api.get("/addresses/resolve/x@catchall.example?allowWildcard=true")
    assert resolved.status == 200 and resolved["address"] == "*@catchall.example"
    assert api.get("/addresses/resolve/x@catchall.example").status == 404


def test_an_account_address_is_preferred_over_a_catch_all(api, account):
    forwarded(api, address="*@example.com", allowWildcard=True,
              targets=["inbox@elsewhere.example"])
    result = delivery.from_ses(ses_event(inbound(), ["mailuser@example.com"]))
    assert statuses(result)[0][0] == "stored" and sent_mail() == []


def test_a_transient_send_failure_is_retried_and_completes(api, monkeypatch):
    from chalicelib.errors import SendingUnavailable
    address_id = forwarded(api, address="team@example.com", targets=["one@elsewhere.example"])
    event = ses_event(inbound(), ["team@example.com"])
    real = outbound.send_for_address
    monkeypatch.setattr(outbound, "send_for_address", lambda *a, **k: (
        _ for _ in ()).throw(SendingUnavailable()))
    with pytest.raises(delivery.DeliveryIncomplete):
        delivery.from_ses(event)
    monkeypatch.setattr(outbound, "send_for_address", real)
    assert statuses(delivery.from_ses(event))[0][0] == "forwarded"
    assert len(sent_mail()) == 1 and limits(api, address_id)["used"] == 1


def test_parallel_deliveries_never_pass_the_limit(api, serialized_aws):
    address_id = forwarded(api, address="team@example.com", forwards=5,
                           targets=["one@elsewhere.example"])
    raws = [inbound(subject=f"parallel {n}") for n in range(12)]

    def deliver(n):
        return delivery.deliver(raws[n], "jane@partner.example", ["team@example.com"],
                                f"parallel-{n}")[0].status

    results, errors = race(12, deliver)
    assert errors == []
    assert sorted(results).count("forwarded") == 5
    assert len(sent_mail()) == 5 and limits(api, address_id)["used"] == 5


def test_the_address_autoreply_answers_the_sender_once(api):
    import email
    address_id = forwarded(api, address="team@example.com", targets=["one@elsewhere.example"],
                           autoreply={"subject": "Away", "text": "Back soon", "name": "Team"})
    shown = api.get(f"/addresses/forwarded/{address_id}")["autoreply"]
    assert shown == {"status": True, "name": "Team", "subject": "Away", "text": "Back soon"}
    for n in range(2):
        delivery.from_ses(ses_event(inbound(subject=f"n{n}"), ["team@example.com"]))
    forwards = [m for m in sent_mail() if "one@elsewhere.example" in m["destinations"]]
    replies = [m for m in sent_mail() if m["destinations"] == ["jane@partner.example"]]
    assert len(forwards) == 2 and len(replies) == 1  # once per sender in 4 hours
    reply = email.message_from_string(replies[0]["raw"])
    assert reply["Subject"] == "Auto: Away" and "team@example.com" in reply["From"]
    assert limits(api, address_id)["used"] == 2  # autoreplies are not counted


def test_an_autoreply_update_changes_only_what_it_gives(api):
    address_id = forwarded(api, address="team@example.com", targets=["one@elsewhere.example"],
                           autoreply={"subject": "Away", "text": "Back soon"})
    assert api.put(f"/addresses/forwarded/{address_id}",
                   {"autoreply": {"status": False}}).status == 200
    shown = api.get(f"/addresses/forwarded/{address_id}")["autoreply"]
    assert shown == {"status": False, "subject": "Away", "text": "Back soon"}
    delivery.from_ses(ses_event(inbound(), ["team@example.com"]))
    assert [m["destinations"] for m in sent_mail()] != [] and not any(
        m["destinations"] == ["jane@partner.example"] for m in sent_mail())
    assert api.put(f"/addresses/forwarded/{address_id}",
                   {"autoreply": {"text": "", "end": "2001-01-01T00:00:00Z"}}).status == 200
    shown = api.get(f"/addresses/forwarded/{address_id}")["autoreply"]
    # status defaults to on with the object; emptying text empties html as well
    assert shown["status"] is True and shown["text"] == "" and shown["html"] == ""
    assert shown["end"].startswith("2001-01-01")
    assert api.put(f"/addresses/forwarded/{address_id}",
                   {"autoreply": {"subject": "x" * 2049}}).status == 400


def test_passing_mail_on_costs_a_fixed_number_of_calls(api):
    from devstack.calls import counting
    forwarded(api, address="team@example.com", targets=["one@elsewhere.example",
                                                        "two@elsewhere.example"])
    raw = inbound()
    with counting() as log:
        [outcome] = delivery.deliver(raw, "jane@partner.example", ["team@example.com"], "b1")
    assert outcome.status == "forwarded"
    # the lookup, the address item; the send record with the address (1 batch), the
    # record and the counter (1 transaction), the record marked sent
    assert log.by_operation() == {"GetItem": 2, "BatchGetItem": 1, "TransactWriteItems": 1,
                                  "UpdateItem": 1}
    assert log.count("ses", "SendRawEmail") == 1
