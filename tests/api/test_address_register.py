"""The address register (`GET /users/{user}/addressregister`): filled from the messages
stream when mail is delivered, uploaded or sent, searched by address or name prefix."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from chalicelib import streams
from chalicelib.services import addressregister, delivery, maintenance
from chalicelib.store.addressregister import RegisterItem
from devstack.calls import counting
from tests.support import MessagesStream, upload_raw


@pytest.fixture
def stream() -> MessagesStream:
    return MessagesStream()


def mail(sender: str = "Jane Doe <jane.doe@partner.example>", to: str = "mailuser@example.com",
         extra: str = "", subject: str = "Hello") -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
             "Date: Tue, 9 Apr 2024 11:11:33 +0200"]
    if extra:
        lines.append(extra)
    return "\r\n".join(lines + ["MIME-Version: 1.0", "Content-Type: text/plain", "", "Hi", ""]) \
        .encode()


def register(api, account, query: str, **params) -> list[dict]:
    reply = api.get(f"/users/{account.id}/addressregister?"
                    f"{urlencode({'query': query, **params})}")
    assert reply.status == 200, reply
    return reply["results"]


def addresses(api, account, query: str, **params) -> list[str]:
    return [entry["address"] for entry in register(api, account, query, **params)]


def store(api, account, raw: bytes, box: str = "INBOX", query: str = "") -> None:
    reply = upload_raw(api, account, raw, account.boxes[box], query=query)
    assert reply.status == 200, reply


def test_delivery_records_the_sender(api, account, stream):
    outcome = delivery.deliver(mail(), "jane.doe@partner.example", ["mailuser@example.com"], "d1")
    assert outcome[0].status == "stored"
    stream.pump()
    [entry] = register(api, account, "jane")
    assert entry["name"] == "Jane Doe" and entry["address"] == "jane.doe@partner.example"
    assert len(entry["id"]) == 24
    assert addresses(api, account, "mailuser") == []  # the recipient is not recorded


def test_an_upload_to_sent_records_to_cc_and_bcc_not_from(api, account, stream):
    store(api, account, mail(sender="Me <mailuser@example.com>",
                             to="Ann <ann@a.example>, bob@b.example",
                             extra="Cc: Carl <carl@c.example>\r\nBcc: dora@d.example"),
          box="Sent Mail")
    stream.pump()
    found = {e["address"]: e["name"] for e in register(api, account, "a")
             + register(api, account, "b") + register(api, account, "c")
             + register(api, account, "d")}
    assert found == {"ann@a.example": "Ann", "bob@b.example": False,
                     "carl@c.example": "Carl", "dora@d.example": False}
    assert addresses(api, account, "mailuser") == []


def test_a_submitted_message_records_its_recipients(api, account, stream):
    reply = api.post(f"/users/{account.id}/submit", {
        "to": [{"name": "Alice", "address": "alice@other.test"}], "subject": "Hi",
        "text": "Hello", "uploadOnly": True})
    assert reply.status == 200, reply
    stream.pump()
    [entry] = register(api, account, "ali")
    assert (entry["name"], entry["address"]) == ("Alice", "alice@other.test")


def test_drafts_junk_no_reply_list_and_automatic_mail_are_not_recorded(api, account, stream):
    store(api, account, mail(sender="draft@x.example"), query="draft=true")
    store(api, account, mail(sender="junk@x.example"), box="Junk")
    store(api, account, mail(sender="No Reply <no-reply@x.example>"))
    store(api, account, mail(sender="noreply@x.example"))
    store(api, account, mail(sender="list@x.example", extra="List-Id: <news.x.example>"))
    store(api, account, mail(sender="auto@x.example", extra="Auto-Submitted: auto-replied"))
    store(api, account, mail(sender="ooo@x.example", extra="X-Auto-Response-Suppress: All"))
    store(api, account, mail(sender="Real Person <real@x.example>"), box="Drafts")  # not a draft
    stream.pump()
    for prefix in ("draft", "junk", "no", "list", "auto", "ooo"):
        assert addresses(api, account, prefix) == [], prefix
    assert addresses(api, account, "real") == ["real@x.example"]


def test_name_prefix_in_any_case_and_address_prefix_as_stored_match(api, account, stream):
    store(api, account, mail(sender="Zoe Quinn <ZQ.Mail@Example.COM>"))
    store(api, account, mail(sender="Quentin <zz@example.com>"))
    stream.pump()
    assert addresses(api, account, "zq.mail@ex") == ["zq.mail@example.com"]
    assert addresses(api, account, "zoe") == ["zq.mail@example.com"]
    assert addresses(api, account, "ZOE Q") == ["zq.mail@example.com"]
    assert addresses(api, account, "ZQ") == []  # addresses are stored in lower case
    assert addresses(api, account, "zqmail") == []  # the dotless key is not what matches
    assert sorted(addresses(api, account, "q")) == ["zz@example.com"]
    assert sorted(addresses(api, account, "z")) == ["zq.mail@example.com", "zz@example.com"]


def test_results_are_newest_first_and_limited(api, account, stream):
    for n in range(5):
        store(api, account, mail(sender=f"Sam {n} <sam{n}@example.com>"))
        time.sleep(0.002)
    stream.pump()
    assert addresses(api, account, "sam") == [f"sam{n}@example.com" for n in (4, 3, 2, 1, 0)]
    assert addresses(api, account, "sam", limit=2) == ["sam4@example.com", "sam3@example.com"]
    store(api, account, mail(sender="sam1@example.com"))  # writing again moves it up
    stream.pump()
    assert addresses(api, account, "sa", limit=2) == ["sam1@example.com", "sam4@example.com"]
    assert register(api, account, "sam1")[0]["name"] == "Sam 1"  # a nameless one keeps it


def test_one_entry_per_dotless_address(api, account, stream):
    store(api, account, mail(sender="First <a.b@example.com>"))
    store(api, account, mail(sender="Second <AB@example.com>"))
    stream.pump()
    assert register(api, account, "a")[0] | {"id": ""} == {
        "id": "", "name": "Second", "address": "a.b@example.com"}
    assert len(list(RegisterItem.query(account.id))) == 1


def test_repeated_and_late_records_never_move_an_entry_back(api, account, stream):
    store(api, account, mail(sender="Old Name <pat@example.com>"))
    time.sleep(0.002)
    store(api, account, mail(sender="New Name <pat@example.com>"))
    time.sleep(0.002)
    store(api, account, mail(sender="kim@example.com"))
    time.sleep(0.002)
    store(api, account, mail(sender="Kim Named <kim@example.com>"))
    old_pat, new_pat, bare_kim, named_kim = stream.read()
    at = [stored_at(r) for r in (old_pat, new_pat, bare_kim, named_kim)]
    # newest first, then the older ones late and twice
    answer = stream.deliver([new_pat, named_kim, old_pat, new_pat, bare_kim, old_pat, named_kim])
    assert answer == {"batchItemFailures": []}
    pat = RegisterItem.get(account.id, "pat@example.com")
    kim = RegisterItem.get(account.id, "kim@example.com")
    assert (pat.name, int(pat.updated)) == ("New Name", at[1])
    assert (kim.name, int(kim.updated)) == ("Kim Named", at[3])
    # a nameless newer message after a named older one seen late: the name stays
    store(api, account, mail(sender="Lee Named <lee@example.com>"))
    time.sleep(0.002)
    store(api, account, mail(sender="lee@example.com"))
    named_lee, bare_lee = stream.read()
    assert stream.deliver([bare_lee, named_lee, named_lee]) == {"batchItemFailures": []}
    lee = RegisterItem.get(account.id, "lee@example.com")
    assert lee.name == "Lee Named"
    assert int(lee.updated) == stored_at(bare_lee)


def stored_at(record) -> int:
    return int(record["dynamodb"]["NewImage"]["register"]["M"]["at"]["N"])


def test_moves_and_restores_record_nothing_again(api, account, stream):
    store(api, account, mail(sender="Mover <mover@example.com>", to="Target <target@example.com>"))
    stream.pump()
    assert addresses(api, account, "mover") == ["mover@example.com"]
    recorded = int(RegisterItem.get(account.id, "mover@example.com").updated)
    time.sleep(0.002)
    moved = api.put(f"{account.messages()}/1", {"moveTo": account.boxes["Sent Mail"]})
    assert moved.status == 200, moved
    stream.pump()
    sent = account.messages(account.boxes["Sent Mail"])
    assert api.delete(f"{sent}/1").status == 200
    archived = api.get(f"/users/{account.id}/archived/messages")["results"][0]["id"]
    assert api.post(f"/users/{account.id}/archived/messages/{archived}/restore", {}).status == 200
    stream.pump()
    assert addresses(api, account, "target") == []
    assert int(RegisterItem.get(account.id, "mover@example.com").updated) == recorded


def test_the_handler_reads_nothing_writes_once_per_address_and_skips_moves_and_restores(api, account, stream):
    store(api, account, mail(sender="Me <mailuser@example.com>",
                             to="Ann <ann@a.example>, bob@b.example, ANN@a.example",
                             extra="Cc: noreply@c.example"), box="Sent Mail")
    changes = [streams.decode(record) for record in stream.read()]
    with counting() as log:
        assert addressregister.on_messages(changes) == []
    assert log.by_operation() == {"UpdateItem": 2}
    with counting() as log:  # the same record again: refused by the condition
        assert addressregister.on_messages(changes) == []
    assert log.by_operation() == {"UpdateItem": 3}  # + 1 for Ann's name, also refused
    assert api.put(f"{account.messages(account.boxes['Sent Mail'])}/1",
                   {"moveTo": account.inbox}).status == 200
    moved = [streams.decode(record) for record in stream.read()]
    assert {change.event for change in moved} == {"INSERT", "REMOVE"}
    store(api, account, mail(sender="restored@example.com"))
    assert addressregister.on_messages([streams.decode(r) for r in stream.read()]) == []
    assert api.delete(f"{account.messages()}/2").status == 200
    archived = api.get(f"/users/{account.id}/archived/messages")["results"][0]["id"]
    assert api.post(f"/users/{account.id}/archived/messages/{archived}/restore", {}).status == 200
    moved += [streams.decode(record) for record in stream.read()]
    assert [change.event for change in moved].count("INSERT") == 2
    with counting() as log:
        assert addressregister.on_messages(moved) == []
    assert log.calls == []  # a move or a restore is no arrival
    with counting() as log:
        assert addresses(api, account, "a") == ["ann@a.example"]
    assert log.by_operation() == {"GetItem": 1, "Query": 2}


def test_deleting_the_user_purges_its_register(api, account, stream):
    store(api, account, mail())
    stream.pump()
    assert len(list(RegisterItem.query(account.id))) == 1
    assert api.delete(f"/users/{account.id}").status == 200
    assert maintenance.purge_users(now=time.time() + 3 * 24 * 3600).tasks_done == 1
    assert list(RegisterItem.query(account.id)) == []


def test_query_is_required_and_the_user_must_exist(api, account):
    for path in ("", "?query=", "?query=%20%20", "?limit=5"):
        missing = api.get(f"/users/{account.id}/addressregister{path}")
        assert (missing.status, missing["code"]) == (400, "InputValidationError"), path
        assert "query" in missing["details"]
    assert api.get(f"/users/{account.id}/addressregister?query=a&limit=251").status == 400
    unknown = api.get(f"/users/{'0' * 24}/addressregister?query=j")
    assert (unknown.status, unknown["code"]) == (404, "UserNotFound")
