"""Issue 14: message-side correctness fixes, each through the HTTP layer."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store.base import connection
from chalicelib.store.users import UserItem
from tests.support import Account, simple_message, upload_raw


# --------------------------------------------------------------------------- 1: quota


@pytest.mark.parametrize("default", [0, None])
def test_quota_set_back_to_default_keeps_uploads_and_restores_working(api, account: Account,
                                                                      default: Any) -> None:
    assert api.put(f"/users/{account.id}", {"quota": 5000}).status == 200
    assert api.put(f"/users/{account.id}", {"quota": default}).status == 200
    assert api.get(f"/users/{account.id}")["limits"]["quota"]["allowed"] == 1024 ** 3
    reply = upload_raw(api, account, simple_message())
    assert reply.status == 200, reply
    assert api.delete(f"{account.messages()}/1").status == 200
    archived = api.get(f"/users/{account.id}/archived")["results"][0]["id"]
    restored = api.post(f"/users/{account.id}/archived/{archived}/restore")
    assert restored.status == 200, restored


def test_an_account_stored_with_a_null_quota_still_accepts_uploads(api, account: Account) -> None:
    # What the old update wrote for "use the default": the attribute present, as NULL.
    connection().client.update_item(
        TableName=UserItem.Meta.table_name, Key={"id": {"S": account.id}},
        UpdateExpression="SET quota = :null", ExpressionAttributeValues={":null": {"NULL": True}})
    reply = upload_raw(api, account, simple_message())
    assert reply.status == 200, reply
    assert api.get(f"/users/{account.id}")["limits"]["quota"]["used"] == reply["message"]["size"]


# --------------------------------------------------------------------------- 2: expiry


def test_a_message_restored_after_expiry_stays(api, account: Account) -> None:
    from chalicelib.services import maintenance
    from chalicelib.store.messages import MessageItem

    upload_raw(api, account, simple_message("expiring"))
    assert api.put(f"{account.messages()}/1", {"expires": "2020-01-01T00:00:00Z"}).status == 200
    assert maintenance.expire_messages() == 1
    archived = api.get(f"/users/{account.id}/archived")["results"][0]["id"]
    restored = api.post(f"/users/{account.id}/archived/{archived}/restore")
    assert restored.status == 200, restored
    message = api.get(f"{account.messages()}/{restored['uid']}").json
    assert message["expires"] is False
    item = MessageItem.get(account.inbox, restored["uid"])
    assert item.expires is None and item.expiring is None  # out of the sparse index too
    assert maintenance.expire_messages() == 0
    assert [m["subject"] for m in api.get(account.messages())["results"]] == ["expiring"]


# --------------------------------------------------------------------------- 3: text as HTML


def test_a_plain_text_message_gets_an_html_rendering(api, account: Account) -> None:
    body = ("Hello <world> & \"friends\"   \r\nsee https://example.com/a?b=1&c=2.\r\n"
            "\r\n\r\nBye, mailto:me@example.com")
    upload_raw(api, account, simple_message("plain", body))
    message = api.get(f"{account.messages()}/1").json
    assert message["html"] == [
        "<p>Hello &lt;world&gt; &amp; &quot;friends&quot;<br/>"
        'see <a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a>.'
        '</p><p>Bye, <a href="mailto:me@example.com">mailto:me@example.com</a></p>']
    assert message["text"].startswith("Hello <world>")  # the text itself is unchanged


def test_a_message_with_an_html_part_keeps_it_as_is(api, account: Account) -> None:
    from tests.support import fixture
    upload_raw(api, account, fixture("gmail_reply_alternative.eml"))
    html = api.get(f"{account.messages()}/1")["html"]
    assert len(html) == 1 and "<br/>" not in html[0] and "café" in html[0]


# --------------------------------------------------------------------------- 10: inline images


INLINE = (
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: inline\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/related; boundary="rel"\r\n\r\n'
    "--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    '<p><img src="cid:logo%40example.com"><img src=\'cid:unknown@x\'>'
    '<span style="background:url(cid:bg@example.com)">x</span></p>\r\n'
    "--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@example.com>\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
    "--rel\r\nContent-Type: image/gif\r\nContent-ID: <bg@example.com>\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n"
    "--rel--\r\n").encode()


def test_cid_references_point_at_the_attachments(api, account: Account) -> None:
    upload_raw(api, account, INLINE)
    message = api.get(f"{account.messages()}/1").json
    assert [(a["id"], a["cid"]) for a in message["attachments"]] == [
        ("ATT00001", "logo@example.com"), ("ATT00002", "bg@example.com")]
    assert message["html"] == [
        '<p><img src="attachment:ATT00001"><img src=\'cid:unknown@x\'>'
        '<span style="background:url(attachment:ATT00002)">x</span></p>']


def test_the_apple_fixture_inline_chart_points_at_its_attachment(api, account: Account) -> None:
    from tests.support import fixture
    upload_raw(api, account, fixture("apple_nested_mixed.eml"))
    html = api.get(f"{account.messages()}/1")["html"][0]
    assert '<img src="attachment:ATT00001">' in html and "cid:" not in html


# --------------------------------------------------------------------------- 5: deleted accounts


WITH_ATTACHMENT = (
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: attached\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    "--b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment\r\n\r\n"
    "hello\r\n--b--\r\n").encode()


def _populated(api: Any, account: Account) -> dict[str, str]:
    """An account with mail outside INBOX, a flagged message, an attachment, an archived
    message, an application password and authlog entries."""
    sent = account.boxes["Sent Mail"]
    assert upload_raw(api, account, WITH_ATTACHMENT, box=sent, query="flagged=true").status == 200
    upload_raw(api, account, simple_message("inbox"))
    upload_raw(api, account, simple_message("to archive"), box=sent)
    assert api.delete(f"{account.messages(sent)}/2").status == 200
    archived = api.get(f"/users/{account.id}/archived")["results"][0]["id"]
    asp = api.post(f"/users/{account.id}/asps", {"description": "x"})["id"]
    return {"sent": sent, "archived": archived, "asp": asp}


def _every_read(account: Account, ids: dict[str, str]) -> list[str]:
    user, sent = f"/users/{account.id}", account.messages(ids["sent"])
    return [user, f"{user}/mailboxes", f"{user}/mailboxes/{ids['sent']}",
            f"{user}/mailboxes/resolve?path=Sent%20Mail", sent, f"{sent}/1",
            f"{sent}/1/message.eml", f"{sent}/1/attachments/ATT00001", f"{sent}/1/events",
            account.messages(), f"{account.messages()}/1", f"{user}/flagged",
            f"{user}/archived", f"{user}/archived/messages", f"{user}/archived/{ids['archived']}",
            f"{user}/archived/messages/{ids['archived']}", f"{user}/asps",
            f"{user}/asps/{ids['asp']}", f"{user}/authlog", f"{user}/addresses"]


def test_a_deleted_account_is_gone_from_every_per_user_route(api, account: Account) -> None:
    ids = _populated(api, account)
    reads = _every_read(account, ids)
    for path in reads:
        assert api.get(path).status == 200, path
    assert api.delete(f"/users/{account.id}").status == 200

    answers = {path: api.get(path) for path in reads}
    wrong = {path: reply for path, reply in answers.items()
             if (reply.status, (reply.json or {}).get("code")) != (404, "UserNotFound")}
    assert wrong == {}
    sent = account.messages(ids["sent"])
    writes = [("PUT", f"{sent}/1", {"seen": False}), ("PUT", f"{sent}/1", {"moveTo": account.inbox}),
              ("DELETE", f"{sent}/1", None), ("POST", sent, {"raw": "Subject: x\r\n\r\nx"}),
              ("POST", f"/users/{account.id}/archived/{ids['archived']}/restore", {}),
              ("DELETE", f"/users/{account.id}/asps/{ids['asp']}", None),
              ("PUT", f"/users/{account.id}/mailboxes/{ids['sent']}", {"subscribed": False})]
    answers = {(method, path): api.call(method, path, body) for method, path, body in writes}
    wrong = {call: reply for call, reply in answers.items()
             if (reply.status, (reply.json or {}).get("code")) != (404, "UserNotFound")}
    assert wrong == {}


def test_an_account_with_many_mailboxes_loses_all_of_them_at_once(api, account: Account) -> None:
    from chalicelib.store.mailboxes import MailboxItem

    extra = [api.post(f"/users/{account.id}/mailboxes", {"path": f"Folder {n:02d}"})["id"]
             for n in range(60)]
    last = extra[-1]
    upload_raw(api, account, simple_message("deep"), box=last)
    assert api.delete(f"/users/{account.id}").status == 200
    assert list(MailboxItem.query(account.id)) == []
    assert api.get(f"{account.messages(last)}/1")["code"] == "UserNotFound"


def test_a_deletion_cut_short_is_finished_by_the_next_purge_run(api, account: Account,
                                                                monkeypatch) -> None:
    from chalicelib.services import maintenance, users
    from chalicelib.store.lookups import LookupItem
    from chalicelib.store.mailboxes import MailboxItem

    for n in range(60):
        api.post(f"/users/{account.id}/mailboxes", {"path": f"Folder {n:02d}"})
    upload_raw(api, account, simple_message("kept"), box=account.boxes["Sent Mail"])
    calls = {"n": 0}
    real_run = users.run

    def crash_after_the_first(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("Lambda timed out")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(users, "run", crash_after_the_first)
    assert api.delete(f"/users/{account.id}").status == 500
    monkeypatch.setattr(users, "run", real_run)
    assert api.get(f"/users/{account.id}").status == 404
    assert list(MailboxItem.query(account.id))  # some are left

    report = maintenance.purge_users()  # inside the grace period
    assert report.tasks_done == 0
    assert list(MailboxItem.query(account.id)) == []
    assert not [k for k in LookupItem.scan() if k.key.startswith(f"mailbox#{account.id}#")]
    assert [m.subject for m in _messages_of(account.id)] == ["kept"]  # data stays


def _messages_of(user_id: str) -> list[Any]:
    from chalicelib.store.messages import MessageItem
    return list(MessageItem.by_user.query(user_id))


def test_the_purge_removes_every_message_of_a_deleted_account(api, account: Account) -> None:
    import time

    from chalicelib.services import maintenance
    from chalicelib.store import blobs

    upload_raw(api, account, simple_message("in the inbox"))
    upload_raw(api, account, simple_message("sent"), box=account.boxes["Sent Mail"])
    assert api.delete(f"/users/{account.id}").status == 200
    report = maintenance.purge_users(now=time.time() + 3 * 24 * 3600)
    assert (report.tasks_done, report.messages_removed) == (1, 2)
    assert _messages_of(account.id) == []
    assert list(blobs.list_prefix(f"msg/{account.id}/")) == []


# --------------------------------------------------------------------------- 11: deleted mailboxes


def test_a_deleted_mailboxs_messages_vanish_from_every_view_at_once(api, account: Account) -> None:
    from devstack.calls import counting

    projects = api.post(f"/users/{account.id}/mailboxes", {"path": "Projects"})["id"]
    for n in range(3):
        upload_raw(api, account, simple_message(f"inbox {n}"), query="flagged=true")
    for n in range(2):
        upload_raw(api, account, simple_message(f"project {n}"), box=projects,
                   query="flagged=true")
    flagged = f"/users/{account.id}/flagged"
    assert api.get(flagged)["total"] == 5
    assert api.delete(f"/users/{account.id}/mailboxes/{projects}").status == 200

    with counting() as calls:
        first = api.get(f"{flagged}?limit=2").json
    # the account's mailboxes (which also prove the account), the page (a second Query
    # because the two newest entries are the deleted mailbox's), the total
    assert calls.by_operation() == {"Query": 4}, calls.by_operation()
    assert first["total"] == 3 and len(first["results"]) == 2
    second = api.get(f"{flagged}?limit=2&next={first['nextCursor']}").json
    assert second["total"] == 3 and second["nextCursor"] is False
    back = api.get(f"{flagged}?limit=2&previous={second['previousCursor']}").json
    assert [m["subject"] for m in back["results"]] == [m["subject"] for m in first["results"]]
    subjects = [m["subject"] for m in first["results"] + second["results"]]
    assert sorted(subjects) == ["inbox 0", "inbox 1", "inbox 2"]
    with counting() as calls:
        whole = api.get(flagged).json
    assert calls.by_operation() == {"Query": 2} and whole["total"] == 3
    from chalicelib.services import maintenance
    assert maintenance.purge_mailboxes().messages_removed == 2
    with counting() as calls:
        assert api.get(f"{flagged}?limit=2")["total"] == 3
    assert calls.by_operation() == {"Query": 3}  # nothing in the way any more

    gone = account.messages(projects)
    for path in (gone, f"{gone}/1", f"{gone}/1/message.eml", f"{gone}/1/events"):
        assert api.get(path).status == 404, path
    assert api.put(f"{gone}/1", {"seen": False}).status == 404
