"""POST .../messages/{message}/forward: a stored message sent on as it is, counted
against the account's forwards; an Idempotency-Key makes a retry send nothing more."""
from __future__ import annotations

import email

from tests.support import sent_mail, simple_message, upload_raw


def _stored(api, account):
    reply = upload_raw(api, account, simple_message(subject="Minutes"), account.inbox)
    assert reply.status == 200, reply
    return f"/users/{account.id}/mailboxes/{account.inbox}/messages/{reply['message']['id']}"


def test_a_stored_message_goes_to_the_given_addresses(api, account):
    path = _stored(api, account)
    reply = api.post(f"{path}/forward", {"addresses": ["a@elsewhere.example",
                                                       "b@elsewhere.example"]})
    assert reply.status == 200, reply
    assert reply["queueId"] and reply["forwarded"] == [
        {"seq": "001", "type": "mail", "value": "a@elsewhere.example"},
        {"seq": "002", "type": "mail", "value": "b@elsewhere.example"}]
    [sent] = sent_mail()
    assert {"a@elsewhere.example", "b@elsewhere.example"} <= set(sent["destinations"])
    assert sent["source"] == "mailuser@example.com"
    assert email.message_from_string(sent["raw"])["Subject"] == "Minutes"
    assert api.get(f"/users/{account.id}")["limits"]["forwards"]["used"] == 2
    again = api.post(f"{path}/forward", {"addresses": ["a@elsewhere.example"]})
    assert again.status == 200 and len(sent_mail()) == 2  # each call sends, as WildDuck


def test_nobody_to_send_to_answers_an_empty_list(api, account):
    path = _stored(api, account)
    reply = api.post(f"{path}/forward", {"target": 1})
    assert reply.status == 200 and reply.json == {"success": True, "forwarded": []}
    assert sent_mail() == []


def test_a_retried_request_with_its_key_sends_once(api, account):
    path = _stored(api, account)
    headers = {"Idempotency-Key": "fwd-1"}
    first = api.post(f"{path}/forward", {"addresses": ["a@elsewhere.example"]},
                     headers=headers)
    second = api.post(f"{path}/forward", {"addresses": ["a@elsewhere.example"]},
                      headers=headers)
    assert first.json == second.json and len(sent_mail()) == 1


def test_bad_input_and_other_accounts_are_refused(api, account, make_user):
    path = _stored(api, account)
    assert api.post(f"{path}/forward", {"addresses": ["not an address"]}).status == 400
    assert api.post(f"{path}/forward", {"target": 0}).status == 400
    other = make_user("other")
    foreign = path.replace(f"/users/{account.id}/", f"/users/{other}/")
    assert api.post(f"{foreign}/forward", {"addresses": ["a@elsewhere.example"]}).status == 404
