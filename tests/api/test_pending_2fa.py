"""Login with TOTP as the web mail performs it (nodemailer/wildduck-webmail): the reads
it makes with its new token before it shows the code prompt are allowed, nothing
else is until the code is checked (api/access.PENDING_2FA_ALLOWED)."""
from __future__ import annotations

import pyotp

from tests.api.test_twofa import enabled_seed
from tests.api.test_user_tokens import as_user
from tests.support import simple_message, upload_raw


def _login(api, username, password="secret-pass"):
    reply = api.post("/authenticate", {"username": username, "password": password,
                                       "scope": "master", "protocol": "Webmail",
                                       "token": True, "sess": "webmail-sess",
                                       "ip": "192.0.2.10"})
    assert reply.status == 200, reply
    return reply.json


def test_webmail_totp_login_sequence(api, account):
    totp = pyotp.TOTP(enabled_seed(api, account.id))
    upload_raw(api, account, simple_message("secret subject", "secret body"))
    login = _login(api, "mailuser")
    assert login["require2fa"] == ["totp"]
    token = as_user(login["token"])
    user = account.id

    # What the client reads before it asks for the code.
    profile = api.get(f"/users/{user}", **token)
    assert profile.status == 200 and profile["enabled2fa"] == ["totp"]
    boxes = api.get(f"/users/{user}/mailboxes?counters=true", **token)
    assert boxes.status == 200 and boxes["results"][0]["path"] == "INBOX"
    inbox = api.get(f"/users/{user}/mailboxes/resolve?path=INBOX", **token)
    assert inbox.status == 200, inbox
    me = api.get("/users/me", **token)
    assert me.status == 200 and me["id"] == user

    # Never message content, never a write, nothing else of the account.
    refused = [
        ("GET", f"/users/{user}/mailboxes/{account.inbox}/messages", None),
        ("GET", f"/users/{user}/mailboxes/{account.inbox}/messages/1", None),
        ("GET", f"/users/{user}/mailboxes/{account.inbox}/messages/1/message.eml", None),
        ("GET", f"/users/{user}/mailboxes/{account.inbox}", None),
        ("GET", f"/users/{user}/addresses", None),
        ("GET", f"/users/{user}/authlog", None),
        ("GET", f"/users/{user}/asps", None),
        ("PUT", f"/users/{user}", {"name": "Mallory"}),
        ("POST", f"/users/{user}/mailboxes", {"path": "Stolen"}),
        ("POST", f"/users/{user}/asps", {"description": "backdoor"}),
        ("DELETE", f"/users/{user}/2fa/totp", None),
    ]
    for method, path, body in refused:
        reply = api.call(method, path, body, **token)
        assert (reply.status, reply["code"]) == (403, "MissingPrivileges"), (method, path)

    checked = api.post(f"/users/{user}/2fa/totp/check",
                       {"token": totp.now(), "sess": "webmail-sess", "ip": "192.0.2.10"},
                       **token)
    assert checked.status == 200, checked
    listing = api.get(f"/users/{user}/mailboxes/{account.inbox}/messages", **token)
    assert listing.status == 200 and listing["results"][0]["subject"] == "secret subject"


def test_pending_token_reads_only_its_own_account(api, make_user):
    alice = make_user("alice2fa", password="pw")
    bob = make_user("bob2fa", password="pw")
    enabled_seed(api, alice)
    token = as_user(_login(api, "alice2fa", "pw")["token"])
    for path in (f"/users/{bob}", f"/users/{bob}/mailboxes"):
        assert api.get(path, **token).status == 403
