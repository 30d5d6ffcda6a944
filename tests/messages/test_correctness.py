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
