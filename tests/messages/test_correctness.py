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
