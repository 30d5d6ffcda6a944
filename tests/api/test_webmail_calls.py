"""The unmodified WildDuck Webmail (github nodemailer/wildduck-webmail) against this API.

Each test replays one web-mail feature: the requests its API client (lib/api-client.js)
sends, built the way that client builds them (`_render`: path placeholders, then every
other truthy argument appended as a query parameter), with the bodies its routes
(routes/*.js, lib/passport.js) send, and asserts the response fields its routes and
templates read. `_exec` treats every answer without `success: true` as an error, so
each JSON answer is checked for it too. A feature the API does not offer (U2F) is
tested to fail with an error the web mail shows.
"""
from __future__ import annotations

import base64
import warnings
from typing import Any
from urllib.parse import quote

import pyotp

from tests.api.test_twofa import enabled_seed
from tests.search.conftest import MessagesStream
from tests.support import parse_event_stream, sent_mail, simple_message, upload_raw

SESS = "ZxY9webmailSessionId"  # express-session ids: 32 url-safe characters
IP = "::ffff:192.0.2.10"  # req.ip behind no proxy: an IPv4-mapped IPv6 address
APP_ID = "https://127.0.0.1:3000"  # config.u2f.appId, sent with every login


def encode(value: Any) -> str:
    """encodeURIComponent(String(value))."""
    if value is True or value is False:
        value = "true" if value else "false"
    return quote(str(value), safe="-_.!~*'()")


def render(path: str, args: dict[str, Any]) -> str:
    """lib/api-client.js `_render`: `{key}` from args, then every other truthy arg."""
    found: set[str] = set()
    out = path
    for key, value in args.items():
        if "{" + key + "}" in out:
            found.add(key)
            out = out.replace("{" + key + "}", encode(value))
    extra = "&".join(f"{encode(k)}={encode(v)}" for k, v in args.items()
                     if k not in found and v not in (None, False, "", 0))
    if extra:
        out += ("&" if "?" in out else "?") + extra
    return out


class Webmail:
    """The web mail's API client, method for method, acting with one user's token."""

    def __init__(self, api: Any, user: str, token: str | None) -> None:
        self.api, self.user, self.token = api, user, token

    def _exec(self, method: str, path: str, args: Any, body: Any = None,
              token: str | None = "user") -> Any:
        headers = {}
        token = self.token if token == "user" else token
        if token:
            headers["X-Access-Token"] = token
        reply = self.api.call(method, render(path, args or {}), body, headers=headers)
        return reply

    def ok(self, reply: Any) -> dict[str, Any]:
        """What `_exec` hands its callback: a JSON object with success true, no error."""
        assert reply.status == 200, reply
        assert reply.json.get("success") is True and "error" not in reply.json, reply
        return reply.json

    # users
    def users_create(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users", None, data, token=None)

    def users_get(self) -> Any:
        return self._exec("GET", "/users/{user}", {"user": self.user})

    def users_update(self, updates: dict[str, Any]) -> Any:
        return self._exec("PUT", "/users/{user}", {"user": self.user}, updates)

    def users_logout(self) -> Any:
        return self._exec("DELETE", "/authenticate", {})

    def users_resolve(self, username: str) -> Any:
        return self._exec("GET", "/users/resolve/{username}",
                          {"username": username, "ip": IP, "sess": SESS}, token=None)

    # addresses
    def addresses_list(self) -> Any:
        return self._exec("GET", "/users/{user}/addresses", {"user": self.user})

    def addresses_create(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users/{user}/addresses", {"user": self.user}, data)

    def addresses_get(self, address: str) -> Any:
        return self._exec("GET", "/users/{user}/addresses/{address}",
                          {"user": self.user, "address": address})

    def addresses_update(self, address: str, updates: dict[str, Any]) -> Any:
        return self._exec("PUT", "/users/{user}/addresses/{address}",
                          {"user": self.user, "address": address}, updates)

    def addresses_del(self, address: str) -> Any:
        return self._exec("DELETE", "/users/{user}/addresses/{address}",
                          {"user": self.user, "address": address})

    # asps
    def asps_list(self) -> Any:
        return self._exec("GET", "/users/{user}/asps", {"user": self.user})

    def asps_create(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users/{user}/asps", {"user": self.user}, data)

    def asps_del(self, asp: str) -> Any:
        return self._exec("DELETE", "/users/{user}/asps/{asp}?ip={ip}",
                          {"user": self.user, "asp": asp, "sess": SESS, "ip": IP})

    # 2fa
    def setup_totp(self, issuer: str) -> Any:
        return self._exec("POST", "/users/{user}/2fa/totp/setup", {"user": self.user},
                          {"issuer": issuer, "ip": IP})

    def check_totp(self, token: str) -> Any:
        return self._exec("POST", "/users/{user}/2fa/totp/check", {"user": self.user},
                          {"token": token, "sess": SESS, "ip": IP})

    def verify_totp(self, token: str) -> Any:
        return self._exec("POST", "/users/{user}/2fa/totp/enable", {"user": self.user},
                          {"token": token, "sess": SESS, "ip": IP})

    def disable_2fa(self) -> Any:
        return self._exec("DELETE", "/users/{user}/2fa?ip={ip}",
                          {"user": self.user, "sess": SESS, "ip": IP})

    # authlog
    def authlog_list(self, next_: str = "", previous: str = "", page: Any = 1) -> Any:
        return self._exec("GET", "/users/{user}/authlog?next={next}&previous={previous}&page={page}",
                          {"user": self.user, "next": next_, "previous": previous, "page": page})

    def authlog_get(self, event: str) -> Any:
        return self._exec("GET", "/users/{user}/authlog/{event}", {"user": self.user, "event": event})

    # filters
    def filters_list(self) -> Any:
        return self._exec("GET", "/users/{user}/filters", {"user": self.user})

    def filters_get(self, filter_id: str) -> Any:
        return self._exec("GET", "/users/{user}/filters/{filter}", {"user": self.user, "filter": filter_id})

    def filters_create(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users/{user}/filters", {"user": self.user}, data)

    def filters_update(self, filter_id: str, data: dict[str, Any]) -> Any:
        return self._exec("PUT", "/users/{user}/filters/{filter}",
                          {"user": self.user, "filter": filter_id}, data)

    def filters_del(self, filter_id: str) -> Any:
        return self._exec("DELETE", "/users/{user}/filters/{filter}",
                          {"user": self.user, "filter": filter_id})

    # mailboxes
    def mailboxes_list(self, counters: bool) -> Any:
        return self._exec("GET", "/users/{user}/mailboxes?counters={counters}",
                          {"user": self.user, "counters": "true" if counters else "false"})

    def mailboxes_get(self, mailbox: str, args: dict[str, Any] | None = None) -> Any:
        return self._exec("GET", "/users/{user}/mailboxes/{mailbox}",
                          {**(args or {}), "user": self.user, "mailbox": mailbox})

    def mailboxes_delete(self, mailbox: str) -> Any:
        return self._exec("DELETE", "/users/{user}/mailboxes/{mailbox}",
                          {"user": self.user, "mailbox": mailbox})

    def mailboxes_update(self, mailbox: str, data: dict[str, Any]) -> Any:
        return self._exec("PUT", "/users/{user}/mailboxes/{mailbox}",
                          {"user": self.user, "mailbox": mailbox}, data)

    def mailboxes_create(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users/{user}/mailboxes", {"user": self.user}, data)

    # autoreply
    def autoreply_get(self) -> Any:
        return self._exec("GET", "/users/{user}/autoreply", {"user": self.user})

    def autoreply_update(self, data: dict[str, Any]) -> Any:
        return self._exec("PUT", "/users/{user}/autoreply", {"user": self.user}, data)

    # restore
    def restore_create(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users/{user}/archived/restore", {"user": self.user}, data)

    # messages
    def messages_list(self, mailbox: str, data: dict[str, Any] | None = None) -> Any:
        data = data or {}
        return self._exec(
            "GET",
            "/users/{user}/mailboxes/{mailbox}/messages?next={next}&previous={previous}&page={page}&unseen={unseen}",
            {"user": self.user, "mailbox": mailbox, "next": data.get("next") or "",
             "previous": data.get("previous") or "", "page": data.get("page") or "",
             "limit": data.get("limit") or "", "unseen": "true" if data.get("unseen") else ""})

    def messages_search(self, args: dict[str, Any]) -> Any:
        return self._exec("GET", "/users/{user}/search", {**args, "user": self.user})

    def messages_get(self, mailbox: str, message: Any) -> Any:
        return self._exec("GET", "/users/{user}/mailboxes/{mailbox}/messages/{message}?markAsSeen=true",
                          {"user": self.user, "mailbox": mailbox, "message": message})

    def messages_raw(self, mailbox: str, message: Any) -> Any:
        return self._exec("GET", "/users/{user}/mailboxes/{mailbox}/messages/{message}/message.eml",
                          {"user": self.user, "mailbox": mailbox, "message": message})

    def messages_update(self, mailbox: str, data: dict[str, Any]) -> Any:
        return self._exec("PUT", "/users/{user}/mailboxes/{mailbox}/messages",
                          {"user": self.user, "mailbox": mailbox}, data)

    def messages_delete(self, mailbox: str, message: Any) -> Any:
        return self._exec("DELETE", "/users/{user}/mailboxes/{mailbox}/messages/{message}",
                          {"user": self.user, "mailbox": mailbox, "message": message})

    def messages_submit(self, data: dict[str, Any]) -> Any:
        return self._exec("POST", "/users/{user}/submit", {"user": self.user}, data)

    def attachment_get(self, mailbox: str, message: Any, attachment: str) -> Any:
        return self._exec(
            "GET", "/users/{user}/mailboxes/{mailbox}/messages/{message}/attachments/{attachment}",
            {"user": self.user, "mailbox": mailbox, "message": message, "attachment": attachment})

    def updates_stream(self) -> Any:
        return self._exec("GET", "/users/{user}/updates", {"user": self.user})


def authenticate(api: Any, username: str, password: str = "secret-pass") -> Any:
    """apiClient.users.authenticate, with the service's (here: no) access token."""
    return api.post("/authenticate", {"username": username, "password": password,
                                      "scope": "master", "sess": SESS, "appId": APP_ID,
                                      "token": True, "ip": IP})


def login(api: Any, account: Any, username: str = "mailuser") -> Webmail:
    """lib/passport.js: authenticate, keep the answer as the session's user, then
    list the mailboxes (INBOX id for the session) and, on every later request,
    deserializeUser: GET /users/{id} and resolve INBOX."""
    reply = authenticate(api, username)
    assert reply.status == 200, reply
    user = reply.json
    assert user["success"] is True and user["id"] == account.id
    assert isinstance(user["token"], str) and user["token"]
    assert user["username"] == username
    client = Webmail(api, user["id"], user["token"])
    boxes = client.ok(client.mailboxes_list(True))["results"]
    assert any(box["path"] == "INBOX" for box in boxes)
    deserialize(client)
    return client


def deserialize(client: Webmail) -> dict[str, Any]:
    """passport.deserializeUser (every logged-in page) and app.js's res.locals."""
    user = client.ok(client.users_get())
    inbox = client.ok(client.mailboxes_get("resolve", {"path": "INBOX"}))
    assert isinstance(inbox["id"], str) and isinstance(inbox["unseen"], int)
    assert isinstance(user["username"], str) and isinstance(user["address"], str)
    return user


ATTACHED = (
    "From: Sender <sender@example.com>\r\nTo: Mail User <mailuser@example.com>\r\n"
    "Cc: Carol <carol@example.org>\r\nSubject: With a file\r\n"
    "Message-ID: <with-file@example.com>\r\nDate: Tue, 9 Apr 2024 11:11:33 +0200\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
    "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the file</p>\r\n"
    "--XX\r\nContent-Type: application/pdf; name=report.pdf\r\n"
    "Content-Disposition: attachment; filename=report.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    + base64.b64encode(b"%PDF-1.4 report").decode() + "\r\n--XX--\r\n"
).encode()


def listed_message(message: dict[str, Any]) -> None:
    """What partials/messagerow.hbs and routes/webmail.js read from a listed message."""
    assert isinstance(message["id"], int) and isinstance(message["mailbox"], str)
    for flag in ("seen", "flagged", "attachments"):
        assert isinstance(message[flag], bool), flag
    assert isinstance(message.get("encrypted", False), bool)
    assert isinstance(message["subject"], str) and isinstance(message["intro"], str)
    assert isinstance(message["date"], str)
    assert isinstance(message["from"], dict) and "address" in message["from"]
    assert isinstance(message["to"], list) and isinstance(message["cc"], list)


def page_fields(result: dict[str, Any]) -> None:
    """renderMailbox and the security events page: paging of a listing."""
    assert isinstance(result["page"], int) and isinstance(result["total"], int)
    assert "nextCursor" in result and "previousCursor" in result
    assert isinstance(result["results"], list)


# -- login, logout, account creation ------------------------------------------------


def test_login_then_every_page_loads_the_user_and_inbox(api, account):
    client = login(api, account)
    user = deserialize(client)
    # account/index.hbs (Overview)
    for limit in ("quota", "recipients", "forwards"):
        assert isinstance(user["limits"][limit]["allowed"], int), limit
        assert isinstance(user["limits"][limit]["used"], int), limit
    assert user["name"] is None or isinstance(user["name"], str)  # both render as ""
    assert user["enabled2fa"] == []
    assert client.ok(client.users_logout())
    assert client.users_get().status in (401, 403)


def test_login_with_wrong_password_is_an_error_the_client_shows(api, account):
    reply = authenticate(api, "mailuser", "wrong-pass")
    assert reply.status == 403 and isinstance(reply["error"], str)


def test_login_answers_require2fa_and_check_totp_unlocks(api, account):
    totp = pyotp.TOTP(enabled_seed(api, account.id))
    reply = authenticate(api, "mailuser")
    assert reply.status == 200 and reply["require2fa"] == ["totp"]
    client = Webmail(api, reply["id"], reply["token"])
    client.ok(client.mailboxes_list(True))
    client.ok(client.users_get())
    client.ok(client.mailboxes_get("resolve", {"path": "INBOX"}))
    client.ok(client.check_totp(totp.now()))  # /account/check-totp
    client.ok(client.messages_list(account.inbox, {"page": 1, "limit": 20}))


def test_create_account(api):
    """routes/account.js POST /account/create, with the service's access token."""
    client = Webmail(api, "", None)
    reply = client.users_create({
        "name": "New Person", "username": "newperson", "password": "long-password",
        "allowUnsafe": False, "address": "newperson@example.com", "recipients": 2000,
        "forwards": 2000, "quota": 1024 * 1024 * 1024, "sess": SESS, "ip": IP})
    created = client.ok(reply)
    assert isinstance(created["id"], str)
    assert authenticate(api, "newperson", "long-password").status == 200


def test_http_sso_resolves_the_user_and_reads_it_with_the_service_token(api, account):
    """lib/http-sso.js: users.resolve, then users.get and INBOX with no user token."""
    client = Webmail(api, account.id, None)
    assert client.ok(client.users_resolve("mailuser"))["id"] == account.id
    deserialize(client)


def test_forced_password_change_after_a_reset(api, account):
    """POST /account/update-password: a login with a temporary password."""
    reset = api.post(f"/users/{account.id}/password/reset", {})
    assert reset.status == 200, reset
    reply = authenticate(api, "mailuser", reset["password"])
    assert reply.status == 200 and reply["requirePasswordChange"] is True
    client = Webmail(api, reply["id"], reply["token"])
    client.ok(client.mailboxes_list(True))  # passport.login, before the redirect
    assert deserialize(client)["requirePasswordChange"] is True  # the prompt page
    # still nothing else: no message, no other write
    assert client.messages_list(account.inbox, {"page": 1}).status == 403
    assert client.users_update({"name": "Someone", "password": "x" * 10}).status == 403
    client.ok(client.users_update({"password": "brand-new-pass", "disable2fa": True,
                                   "sess": SESS, "ip": IP, "allowUnsafe": False}))
    assert authenticate(api, "mailuser", "brand-new-pass").status == 200
    assert client.users_get()["code"] == "InvalidToken"  # the change ended the token


def test_forced_password_change_needs_a_live_temporary_password(api, account, monkeypatch):
    """Without existingPassword the token stands for the temporary password only while
    that password is valid (a token may outlive it)."""
    from chalicelib.services import users  # noqa: PLC0415
    reset = api.post(f"/users/{account.id}/password/reset", {})
    client = Webmail(api, account.id, authenticate(api, "mailuser", reset["password"])["token"])
    monkeypatch.setattr(users, "now_ms", lambda: 10 ** 15)  # long after it expired
    refused = client.users_update({"password": "brand-new-pass", "disable2fa": True,
                                   "sess": SESS, "ip": IP, "allowUnsafe": False})
    assert (refused.status, refused["code"]) == (403, "MissingPrivileges")


# -- mailboxes and the message list -------------------------------------------------


def test_mailbox_list_with_counters(api, account):
    """renderMailbox, prepareMailboxList, the folder menu (layout-webmail.hbs)."""
    client = login(api, account)
    upload_raw(api, account, simple_message("one"), query="unseen=true")
    boxes = client.ok(client.mailboxes_list(True))["results"]
    assert boxes[0]["path"] == "INBOX"
    for box in boxes:
        assert isinstance(box["id"], str) and isinstance(box["path"], str)
        assert isinstance(box["name"], str)
        assert box.get("specialUse") in (None, False, "\\Sent", "\\Trash", "\\Drafts", "\\Junk",
                                         "\\Archive")
        assert isinstance(box["unseen"], int)
    special = {box["specialUse"] for box in boxes if box.get("specialUse")}
    assert {"\\Sent", "\\Trash", "\\Drafts", "\\Junk"} <= special
    assert next(box for box in boxes if box["path"] == "INBOX")["unseen"] == 1
    # the filter pages list the folders without counters
    plain = client.ok(client.mailboxes_list(False))["results"]
    assert [box["id"] for box in plain] == [box["id"] for box in boxes]


def test_create_rename_and_delete_a_folder(api, account):
    """POST /webmail/create, POST /webmail/:mailbox/settings, POST /webmail/:mailbox/delete."""
    client = login(api, account)
    created = client.ok(client.mailboxes_create({"path": "Projects/Reports"}))
    box = created["id"]
    assert isinstance(box, str)
    client.ok(client.mailboxes_update(box, {"path": "Archive/Reports"}))
    paths = [b["path"] for b in client.ok(client.mailboxes_list(True))["results"]]
    assert "Archive/Reports" in paths
    client.ok(client.mailboxes_delete(box))
    paths = [b["path"] for b in client.ok(client.mailboxes_list(True))["results"]]
    assert "Archive/Reports" not in paths


def test_list_messages_first_page_and_next_pages(api, account):
    """renderMailbox (page, limit from config.www.listSize) and /api/list (cursor, empty
    page), as messages.list renders them: empty next/previous/page/unseen are sent."""
    client = login(api, account)
    for n in range(25):
        upload_raw(api, account, simple_message(f"message {n}"))
    first = client.ok(client.messages_list(account.inbox, {"page": 1, "limit": 20}))
    page_fields(first)
    assert first["page"] == 1 and first["total"] == 25 and len(first["results"]) == 20
    for message in first["results"]:
        listed_message(message)
        assert message["mailbox"] == account.inbox
    assert first["previousCursor"] is False and isinstance(first["nextCursor"], str)
    # the "next page" link: ?next=<cursor>&page=2
    second = client.ok(client.messages_list(account.inbox, {
        "next": first["nextCursor"], "page": 2, "limit": 20}))
    assert second["page"] == 2 and len(second["results"]) == 5
    assert isinstance(second["previousCursor"], str)
    # /api/list redraw: the cursor, no page and no limit
    redraw = client.ok(client.messages_list(account.inbox, {"next": first["nextCursor"]}))
    assert len(redraw["results"]) == 5
    back = client.ok(client.messages_list(account.inbox, {
        "previous": second["previousCursor"], "page": 1, "limit": 20}))
    assert [m["id"] for m in back["results"]] == [m["id"] for m in first["results"]]


def test_list_only_unseen(api, account):
    client = login(api, account)
    upload_raw(api, account, simple_message("read"), query="unseen=true")
    upload_raw(api, account, simple_message("unread"), query="unseen=true")
    client.ok(client.messages_update(account.inbox, {"message": "1", "seen": True}))
    listing = client.ok(client.messages_list(account.inbox, {"page": 1, "limit": 20,
                                                             "unseen": True}))
    assert [m["subject"] for m in listing["results"]] == ["unread"]


def test_sent_folder_listing_shows_recipients(api, account):
    """renderMailbox in \\Sent: fromHtml from message.to.concat(message.cc)."""
    client = login(api, account)
    sent = account.boxes["Sent Mail"]
    upload_raw(api, account, simple_message("sent one"), box=sent)
    [message] = client.ok(client.messages_list(sent, {"page": 1, "limit": 20}))["results"]
    assert message["to"] == [{"name": "", "address": "mailuser@example.com"}]
    assert message["cc"] == []


# -- reading a message --------------------------------------------------------------


def test_open_message_marks_it_seen_and_shows_the_fields_the_page_reads(api, account):
    """GET /webmail/:mailbox/message/:message (routes/webmail.js, webmail/message.hbs)."""
    client = login(api, account)
    upload_raw(api, account, ATTACHED, query="unseen=true")
    message = client.ok(client.messages_get(account.inbox, 1))
    assert message["id"] == 1 and message["mailbox"] == account.inbox
    assert message["draft"] is False and message.get("encrypted", False) is False
    assert message["from"] == {"name": "Sender", "address": "sender@example.com"}
    assert message["to"] == [{"name": "Mail User", "address": "mailuser@example.com"}]
    assert message["cc"] == [{"name": "Carol", "address": "carol@example.org"}]
    assert message["subject"] == "With a file" and message["flagged"] is False
    assert isinstance(message["date"], str)
    assert isinstance(message["html"], list) and all(isinstance(h, str) for h in message["html"])
    assert "See the file" in "".join(message["html"])
    [attachment] = message["attachments"]
    assert attachment["id"] == "ATT00001" and attachment["filename"] == "report.pdf"
    assert isinstance(attachment["sizeKb"], (int, float))
    # left out or harmless when absent: the page tests them with `if`
    for optional in ("verificationResults", "envelope", "bimi", "meta"):
        assert not message.get(optional) or isinstance(message[optional], dict), optional
    # markAsSeen: the folder's unseen count the page asks for next is already down
    box = client.ok(client.mailboxes_get(account.inbox))
    assert box["unseen"] == 0
    listed = client.ok(client.messages_list(account.inbox, {"page": 1, "limit": 20}))
    assert listed["results"][0]["seen"] is True and listed["results"][0]["attachments"] is True


def test_download_attachment_and_original_message(api, account):
    """/webmail/:mailbox/attachment/:message/:attachment and /webmail/:mailbox/raw/:message.eml
    (request() piped to the browser, so only the status and bytes matter)."""
    client = login(api, account)
    upload_raw(api, account, ATTACHED)
    attachment = client.attachment_get(account.inbox, 1, "ATT00001")
    assert attachment.status == 200 and attachment.raw == b"%PDF-1.4 report"
    assert attachment.headers["Content-Type"].startswith("application/pdf")
    raw = client.messages_raw(account.inbox, 1)
    assert raw.status == 200 and raw.raw == ATTACHED


def test_open_draft_redirects_to_the_editor_with_its_fields(api, account):
    """A draft opens in /webmail/send?draft=true: to, cc, bcc, subject, html, meta."""
    client = login(api, account)
    drafts = account.boxes["Drafts"]
    saved = client.ok(client.messages_submit({
        "isDraft": True, "uploadOnly": True,
        "to": [{"name": "", "address": "alice@other.test"}],
        "bcc": [{"name": "", "address": "hidden@other.test"}],
        "subject": "Half written", "html": "<p>Dear Alice</p>"}))
    assert saved["message"]["mailbox"] == drafts
    message = client.ok(client.messages_get(drafts, saved["message"]["id"]))
    assert message["draft"] is True
    assert message["to"] == [{"name": "", "address": "alice@other.test"}]
    assert message["bcc"] == [{"name": "", "address": "hidden@other.test"}]
    assert message["subject"] == "Half written" and "Dear Alice" in "".join(message["html"])


# -- flags, move, delete (routes/api.js) --------------------------------------------


def test_toggle_flagged_and_seen(api, account):
    client = login(api, account)
    upload_raw(api, account, simple_message("a"), query="unseen=true")
    upload_raw(api, account, simple_message("b"), query="unseen=true")
    flagged = client.ok(client.messages_update(account.inbox, {"message": "1,2", "flagged": True}))
    assert flagged["updated"] == 2
    client.ok(client.messages_update(account.inbox, {"message": "2", "seen": True}))
    listed = client.ok(client.messages_list(account.inbox, {"page": 1, "limit": 20}))["results"]
    assert {m["id"]: (m["flagged"], m["seen"]) for m in listed} == {1: (True, False), 2: (True, True)}
    client.ok(client.messages_update(account.inbox, {"message": "1", "flagged": False}))


def test_move_answers_source_and_target_uids(api, account):
    """/api/move: the page removes the rows of res.id[i][0] when res.id[i][1] is set."""
    client = login(api, account)
    for n in range(3):
        upload_raw(api, account, simple_message(f"m{n}"))
    target = client.ok(client.mailboxes_create({"path": "Keep"}))["id"]
    moved = client.ok(client.messages_update(account.inbox, {"message": "1,3", "moveTo": target}))
    assert moved["mailbox"] == target
    assert moved["id"] == [[1, 1], [3, 2]]


def test_delete_moves_to_trash_then_deletes_for_good(api, account):
    """/api/delete: outside Trash/Junk it moves to the \\Trash folder of mailboxes.list;
    in Trash it deletes each message and reads `success`."""
    client = login(api, account)
    upload_raw(api, account, simple_message("bye"))
    boxes = client.ok(client.mailboxes_list(True))["results"]
    trash = next(box for box in boxes if box.get("specialUse") == "\\Trash")["id"]
    moved = client.ok(client.messages_update(account.inbox, {"message": "1", "moveTo": trash}))
    assert moved["id"] == [[1, 1]]
    deleted = client.ok(client.messages_delete(trash, 1))
    assert deleted["success"] is True
    assert client.ok(client.messages_list(trash, {"page": 1, "limit": 20}))["results"] == []


# -- search and the Starred folder --------------------------------------------------


def test_starred_folder_searches_flagged_messages(api, account):
    """renderMailbox for `starred`: search with flagged, searchable, page."""
    client = login(api, account)
    stream = MessagesStream()  # the search index follows the messages stream
    upload_raw(api, account, simple_message("star me"))
    upload_raw(api, account, simple_message("plain"))
    client.ok(client.messages_update(account.inbox, {"message": "1", "flagged": True}))
    stream.pump()
    result = client.ok(client.messages_search({"next": None, "previous": None, "page": 1,
                                               "flagged": True, "searchable": True,
                                               "unseen": False}))
    page_fields(result)
    [message] = result["results"]
    listed_message(message)
    assert message["subject"] == "star me" and message["mailbox"] == account.inbox
    # /api/list redraw of the Starred folder: no page
    again = client.ok(client.messages_search({"flagged": True, "searchable": True}))
    assert [m["id"] for m in again["results"]] == [1]


def test_search_page(api, account):
    """renderMailbox for `search`: query text plus from/to/subject keys, page, limit."""
    client = login(api, account)
    stream = MessagesStream()
    upload_raw(api, account, simple_message("quarterly report", "numbers inside"))
    upload_raw(api, account, simple_message("lunch", "numbers too"))
    stream.pump()
    result = client.ok(client.messages_search({"next": None, "previous": None, "page": 1,
                                               "limit": 20, "unseen": False,
                                               "subject": "report", "query": "numbers"}))
    page_fields(result)
    assert [m["subject"] for m in result["results"]] == ["quarterly report"]
    listed_message(result["results"][0])
    everything = client.ok(client.messages_search({"page": 1, "limit": 20, "query": "numbers"}))
    assert everything["total"] == 2


# -- live updates (/api/events) -----------------------------------------------------


def test_event_stream_carries_what_the_pages_read(api, account):
    """EventSource on /api/events: command, mailbox, uid, flags, unseen. (The web mail
    proxies one answer with `end: false` and never asks again, so with this long-poll a
    page gets the first batch only: docs/compatibility.md.)"""
    client = login(api, account)
    first = client.updates_stream()
    assert first.status == 200
    assert first.headers["Content-Type"].startswith("text/event-stream")
    _, last_id, _ = parse_event_stream(first.raw.decode())
    upload_raw(api, account, simple_message("live"), query="unseen=true")
    client.ok(client.messages_update(account.inbox, {"message": "1", "flagged": True}))
    headers = {"X-Access-Token": client.token}
    if last_id:
        headers["Last-Event-ID"] = last_id
    reply = api.call("GET", f"/users/{account.id}/updates", headers=headers)
    events, _, _ = parse_event_stream(reply.raw.decode())
    data = [event.data for event in events]
    exists = next(d for d in data if d.get("command") == "EXISTS")
    assert exists["mailbox"] == account.inbox and exists["uid"] == 1
    fetch = next(d for d in data if d.get("command") == "FETCH")
    assert fetch["mailbox"] == account.inbox and fetch["uid"] == 1
    assert "\\Flagged" in fetch["flags"]
    counters = [d for d in data if d.get("command") == "COUNTERS"]
    assert counters and all(isinstance(d["unseen"], int) for d in counters)
    assert counters[-1]["mailbox"] == account.inbox and counters[-1]["unseen"] == 1


# -- compose: send, save a draft, send a draft, reply, forward ----------------------


def compose_page(client: Webmail) -> list[dict[str, Any]]:
    """GET /webmail/send: the identities to choose From from, and the folder menu."""
    addresses = client.ok(client.addresses_list())["results"]
    for address in addresses:
        assert isinstance(address["id"], str) and isinstance(address["address"], str)
        assert isinstance(address["main"], bool)
    client.ok(client.mailboxes_list(True))
    return addresses


def test_send_a_new_message_with_an_attachment(api, account):
    """POST /webmail/send: addressparser recipients, html from the editor, multer files."""
    client = login(api, account)
    [main] = compose_page(client)
    reply = client.ok(client.messages_submit({
        "isDraft": False, "uploadOnly": False,
        "to": [{"address": "alice@other.test", "name": "Alice"}],
        "cc": [{"address": "carol@other.test", "name": ""}],
        "subject": "Report", "html": "<p>Attached</p>",
        "attachments": [{"filename": "a.txt", "contentType": "text/plain",
                         "content": base64.b64encode(b"hello file").decode(),
                         "encoding": "base64"}],
        "from": {"name": "Mail User", "address": main["address"]}}))
    assert reply["message"]["mailbox"] == account.boxes["Sent Mail"]
    [mail] = sent_mail()
    assert mail["subject"] == "Report" and "alice@other.test" in mail["destinations"]
    stored = client.ok(client.messages_get(account.boxes["Sent Mail"], reply["message"]["id"]))
    assert [a["filename"] for a in stored["attachments"]] == ["a.txt"]
    file = client.attachment_get(account.boxes["Sent Mail"], reply["message"]["id"], "ATT00001")
    assert file.raw == b"hello file"


def test_attachment_encoding_is_base64_or_left_out(api, account):
    """WildDuck's `encoding` of an attachment's content: base64 by default; the content
    here is always base64, so another encoding is refused, not misread."""
    client = login(api, account)
    for encoding, status in (("base64", 200), ("BASE64", 200), ("", 200), ("hex", 400)):
        reply = client.messages_submit({
            "isDraft": True, "uploadOnly": True, "subject": f"enc {encoding}",
            "attachments": [{"filename": "a.txt", "contentType": "text/plain",
                             "content": base64.b64encode(b"x").decode(), "encoding": encoding}]})
        assert reply.status == status, (encoding, reply)
    refused = client.messages_submit({"uploadOnly": True, "attachments": [
        {"content": "aGV4", "encoding": "hex"}]})
    assert set(refused["details"]) == {"attachments.0.encoding"}
    uploaded = api.post(account.messages(), {"subject": "upload", "attachments": [
        {"filename": "b.txt", "content": base64.b64encode(b"y").decode(), "encoding": "base64"}]})
    assert uploaded.status == 200, uploaded


def test_save_a_draft_then_send_it(api, account):
    """userAction=save stores in Drafts; sending it passes draft {mailbox, id} and the
    web mail then deletes the draft itself (an error there is ignored)."""
    client = login(api, account)
    compose_page(client)
    saved = client.ok(client.messages_submit({
        "isDraft": True, "uploadOnly": True,
        "to": [{"address": "alice@other.test", "name": ""}], "subject": "Later",
        "html": "<p>draft</p>"}))
    drafts = account.boxes["Drafts"]
    assert saved["message"]["mailbox"] == drafts
    draft_id = saved["message"]["id"]
    # reopened from the Drafts folder: GET /webmail/send?draft=true&draftMailbox=..&draftMessage=..
    reopened = client.ok(client.messages_get(drafts, draft_id))
    assert reopened["draft"] is True
    sent = client.ok(client.messages_submit({
        "isDraft": False, "uploadOnly": False,
        "to": [{"address": "alice@other.test", "name": ""}], "subject": "Later",
        "html": "<p>final</p>", "draft": {"mailbox": drafts, "id": draft_id}}))
    assert sent["message"]["mailbox"] == account.boxes["Sent Mail"]
    client.messages_delete(drafts, draft_id)  # removeDraft: its answer is not looked at
    assert client.ok(client.messages_list(drafts, {"page": 1, "limit": 20}))["results"] == []
    assert len(sent_mail()) == 1


def _reply_form(client: Webmail, account: Any, action: str) -> dict[str, Any]:
    """GET /webmail/send?action=<action>&refMailbox=..&refMessage=..: what it reads."""
    compose_page(client)
    original = client.ok(client.messages_get(account.inbox, 1))
    assert isinstance(original["from"]["address"], str) and isinstance(original["date"], str)
    assert isinstance(original["subject"], str) and isinstance(original["html"], list)
    return original


def test_reply_reply_all_and_forward(api, account):
    """POST /webmail/send with a reference: the body carries `reference` and `meta`
    ({reference, hasFromAddress}), which the web mail reads back from a saved draft."""
    client = login(api, account)
    upload_raw(api, account, ATTACHED)
    for action, recipients in (("reply", [{"address": "sender@example.com", "name": "Sender"}]),
                               ("replyAll", [{"address": "sender@example.com", "name": "Sender"},
                                             {"address": "carol@example.org", "name": "Carol"}]),
                               ("forward", [{"address": "dave@other.test", "name": ""}])):
        original = _reply_form(client, account, action)
        reference = {"mailbox": account.inbox, "id": 1, "action": action}
        reply = client.messages_submit({
            "isDraft": False, "uploadOnly": False, "to": recipients,
            "subject": ("Fwd: " if action == "forward" else "Re: ") + original["subject"],
            "html": "<p>answer</p>", "reference": reference,
            "meta": {"reference": reference}})
        client.ok(reply)
    subjects = [mail["subject"] for mail in sent_mail()]
    assert subjects == ["Re: With a file", "Re: With a file", "Fwd: With a file"]


def test_submit_meta_is_metadata(api, account):
    """`meta` is WildDuck's metaDataSchema: an object or the JSON text of one."""
    client = login(api, account)
    base = {"isDraft": True, "uploadOnly": True, "subject": "m"}
    for meta in ({"hasFromAddress": "a" * 24}, '{"reference": {"id": 1}}', {}):
        assert client.messages_submit({**base, "meta": meta}).status == 200, meta
    for meta in ("not json", [1, 2], 5, {"big": "x" * 70_000}):
        refused = client.messages_submit({**base, "meta": meta})
        assert refused.status == 400 and set(refused["details"]) == {"meta"}, meta


def test_a_reply_saved_as_a_draft(api, account):
    """A reply saved as a draft, from an alias. Reopened, the web mail looks for
    `meta.reference` and `meta.hasFromAddress`; today's WildDuck keeps `meta` inside and
    answers only `reference` from it, so the web mail finds neither there either and the
    draft reopens as a new message (to, cc, subject and html still come back)."""
    client = login(api, account)
    upload_raw(api, account, ATTACHED)
    alias = client.ok(client.addresses_create({"name": "Alias", "address": "alias@example.com",
                                               "main": False}))["id"]
    reference = {"mailbox": account.inbox, "id": 1, "action": "reply"}
    saved = client.ok(client.messages_submit({
        "isDraft": True, "uploadOnly": True,
        "to": [{"address": "sender@example.com", "name": "Sender"}],
        "subject": "Re: With a file", "html": "<p>later</p>",
        "from": {"name": "Alias", "address": "alias@example.com"},
        "reference": reference, "meta": {"reference": reference, "hasFromAddress": alias}}))
    draft = client.ok(client.messages_get(saved["message"]["mailbox"], saved["message"]["id"]))
    assert draft["draft"] is True and draft["subject"] == "Re: With a file"
    assert draft["to"] == [{"name": "Sender", "address": "sender@example.com"}]
    assert draft["from"] == {"name": "Alias", "address": "alias@example.com"}
    assert "later" in "".join(draft["html"])


# -- account: profile, password, GPG ------------------------------------------------

PUBKEY_NOTE = "-----BEGIN PGP PUBLIC KEY BLOCK-----"


def public_key(email: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_uid(pgpy.PGPUID.new("Mail User", email=email),
                    usage={KeyFlags.Sign, KeyFlags.EncryptCommunications},
                    hashes=[HashAlgorithm.SHA256], primary=True)
        return str(key.pubkey)


def test_profile_page_and_update(api, account):
    """GET/POST /account/profile: targets as strings or {value}, spamLevel; the update
    sends every field, empty ones as "" (pubKey) or [] (targets)."""
    client = login(api, account)
    user = deserialize(client)
    assert isinstance(user["targets"], list)
    assert isinstance(user["spamLevel"], int)
    client.ok(client.users_update({"name": "Mail User", "targets": ["copy@other.test"],
                                   "pubKey": "", "encryptMessages": False, "spamLevel": 75,
                                   "sess": SESS, "ip": IP, "allowUnsafe": False}))
    user = deserialize(client)
    assert user["name"] == "Mail User" and user["spamLevel"] == 75
    assert [t if isinstance(t, str) else t["value"] for t in user["targets"]] == ["copy@other.test"]
    # no forwarding: the form posts an empty field, sent as []
    client.ok(client.users_update({"name": "", "targets": [], "pubKey": "",
                                   "encryptMessages": False, "spamLevel": 50,
                                   "sess": SESS, "ip": IP, "allowUnsafe": False}))
    assert deserialize(client)["targets"] == []


def test_profile_update_with_a_password_change(api, account):
    """The profile form may also carry existingPassword and password."""
    client = login(api, account)
    client.ok(client.users_update({"name": "", "targets": [], "pubKey": "",
                                   "encryptMessages": False, "spamLevel": 50,
                                   "existingPassword": "secret-pass", "password": "other-pass-1",
                                   "sess": SESS, "ip": IP, "allowUnsafe": False}))
    assert authenticate(api, "mailuser", "other-pass-1").status == 200


def test_change_password(api, account):
    """POST /account/security/password."""
    client = login(api, account)
    client.ok(client.users_update({"existingPassword": "secret-pass", "password": "new-secret-1",
                                   "ip": IP, "sess": SESS, "allowUnsafe": False}))
    assert authenticate(api, "mailuser", "new-secret-1").status == 200
    wrong = Webmail(api, account.id, authenticate(api, "mailuser", "new-secret-1")["token"])
    refused = wrong.users_update({"existingPassword": "not-the-password", "password": "x" * 10,
                                  "ip": IP, "sess": SESS, "allowUnsafe": False})
    assert refused.status in (400, 403) and isinstance(refused["error"], str)


def test_gpg_settings(api, account):
    """GET/POST /account/security/gpg: keyInfo {fingerprint, address}; a key, encryption
    on and off, removing the key (pubKey "", encryptMessages false)."""
    client = login(api, account)
    user = deserialize(client)
    assert not user.get("keyInfo") and user["encryptMessages"] is False
    key = public_key("mailuser@example.com")
    assert key.startswith(PUBKEY_NOTE)
    client.ok(client.users_update({"encryptMessages": True, "ip": IP, "sess": SESS,
                                   "pubKey": key, "allowUnsafe": False}))
    user = deserialize(client)
    assert user["encryptMessages"] is True and user["pubKey"].startswith(PUBKEY_NOTE)
    assert isinstance(user["keyInfo"]["fingerprint"], str)
    assert user["keyInfo"]["address"] == "mailuser@example.com"
    # encryption without a key: the page sends encryptForwarded false too
    client.ok(client.users_update({"encryptMessages": False, "ip": IP, "sess": SESS,
                                   "pubKey": "", "allowUnsafe": False}))
    user = deserialize(client)
    assert not user.get("keyInfo") and not user["pubKey"]
    client.ok(client.users_update({"encryptMessages": False, "ip": IP, "sess": SESS,
                                   "encryptForwarded": False, "allowUnsafe": False}))


# -- account: application passwords, 2FA, security log ------------------------------


def test_application_specific_passwords(api, account):
    """/account/security/asps: list, create (scopes "*", mobileconfig), delete."""
    client = login(api, account)
    assert client.ok(client.asps_list())["results"] == []
    created = client.ok(client.asps_create({"description": "Phone", "scopes": "*",
                                            "generateMobileconfig": True, "ip": IP,
                                            "sess": SESS}))
    assert isinstance(created["password"], str) and len(created["password"]) == 16
    assert isinstance(created["mobileconfig"], str) and created["mobileconfig"]
    [asp] = client.ok(client.asps_list())["results"]
    assert asp["id"] == created["id"] and asp["description"] == "Phone"
    assert asp["scopes"] == ["imap", "pop3", "smtp"] and isinstance(asp["created"], str)
    assert asp["lastUse"]["time"] is False or isinstance(asp["lastUse"]["time"], str)
    assert "event" in asp["lastUse"]
    used = api.post("/authenticate", {"username": "mailuser", "password": created["password"],
                                      "scope": "imap"})
    assert used.status == 200
    [asp] = client.ok(client.asps_list())["results"]
    assert isinstance(asp["lastUse"]["time"], str) and isinstance(asp["lastUse"]["event"], str)
    client.ok(client.asps_del(created["id"]))
    assert client.ok(client.asps_list())["results"] == []


def test_enable_and_disable_totp(api, account):
    """/account/security/2fa/enable-totp (setup: qrcode), verify-totp, disable-totp."""
    client = login(api, account)
    setup = client.ok(client.setup_totp("Wild Duck Mail"))
    assert setup["qrcode"].startswith("data:image/png;base64,")
    client.ok(client.verify_totp(pyotp.TOTP(setup["seed"]).now()))
    assert deserialize(client)["enabled2fa"] == ["totp"]
    client.ok(client.disable_2fa())
    assert deserialize(client)["enabled2fa"] == []


def test_u2f_is_not_offered(api, account):
    """The web mail's U2F calls (config.u2f.enabled): this API (like today's WildDuck)
    has no U2F; each answers an error the page shows instead of a success."""
    client = login(api, account)
    for method, path, body in (
            ("POST", "/users/{user}/2fa/u2f/setup", {"ip": IP, "appId": APP_ID}),
            ("POST", "/users/{user}/2fa/u2f/enable", {"sess": SESS, "ip": IP}),
            ("POST", "/users/{user}/2fa/u2f/start", {"ip": IP, "appId": APP_ID}),
            ("POST", "/users/{user}/2fa/u2f/check", {"ip": IP, "sess": SESS}),
            ("DELETE", "/users/{user}/2fa/u2f?ip={ip}", None)):
        reply = client._exec(method, path, {"user": account.id, "ip": IP, "sess": SESS}, body)
        assert reply.status >= 400 and isinstance(reply["error"], str), (method, path)


def test_security_events(api, account):
    """/account/security/events: authlog list (next, previous, page) and one event."""
    client = login(api, account)
    log = client.ok(client.authlog_list(page=1))
    assert log["page"] == 1 and "nextCursor" in log and "previousCursor" in log
    assert log["results"]
    for entry in log["results"]:
        assert isinstance(entry["id"], str) and isinstance(entry["action"], str)
        assert isinstance(entry["created"], str)
        assert entry.get("result") in (None, "success", "fail")
        assert entry.get("ip") is None or isinstance(entry["ip"], str)
        assert entry.get("sess") is None or isinstance(entry["sess"], str)
        assert entry.get("protocol") is None or isinstance(entry["protocol"], str)
    login_event = next(e for e in log["results"] if e["action"] == "authentication")
    assert login_event["result"] == "success" and login_event["sess"] == SESS
    one = client.ok(client.authlog_get(login_event["id"]))
    assert one["id"] == login_event["id"] and one["action"] == "authentication"


def test_security_events_name_the_application_password(api, account):
    """events.hbs shows `asp.name` from the entry's `aname` for an ASP login."""
    client = login(api, account)
    created = client.ok(client.asps_create({"description": "Phone", "scopes": "*",
                                            "generateMobileconfig": True, "ip": IP,
                                            "sess": SESS}))
    api.post("/authenticate", {"username": "mailuser", "password": created["password"],
                               "scope": "imap"})
    asp_events = [e for e in client.ok(client.authlog_list(page=1))["results"] if e.get("asp")]
    assert asp_events and asp_events[0]["asp"] == created["id"]
    assert asp_events[0]["aname"] == "Phone"


# -- filters (routes/account/filters.js) --------------------------------------------


def filter_object(**form: Any) -> dict[str, Any]:
    """getFilterObject: every key present, "" for an unset one, size only when given."""
    query = {key: form.get("query_" + key, "") for key in ("from", "to", "subject", "listId", "text")}
    action = {"mailbox": form.get("action_mailbox", ""), "targets": form.get("action_targets", "")}
    query["ha"] = form.get("query_ha", "")
    for key in ("seen", "flag", "delete", "spam"):
        action[key] = form.get("action_" + key, "")
    data = {"name": form.get("name", ""), "query": query, "action": action}
    if "query_size" in form:
        data["query"]["size"] = form["query_size"]
    return data


def test_filters_create_list_edit_delete(api, account):
    client = login(api, account)
    folders = client.ok(client.mailboxes_list(False))["results"]  # /account/filters/create
    target = next(box["id"] for box in folders if box["path"] == "Junk")
    created = client.ok(client.filters_create(filter_object(
        name="Newsletters", query_from="news@example.com", query_ha=False,
        query_size=-1024 * 1024, action_mailbox=target, action_seen=True,
        action_targets=["copy@other.test", "https://hooks.example.com/mail"])))
    filter_id = created["id"]
    assert isinstance(filter_id, str)
    # GET /account/filters: query and action as lists of [key, value...] tuples
    [listed] = client.ok(client.filters_list())["results"]
    assert listed["id"] == filter_id
    for tuples in (listed["query"], listed["action"]):
        assert isinstance(tuples, list) and all(isinstance(item, list) for item in tuples)
    assert ", ".join(": ".join(str(v) for v in item if v) for item in listed["query"])
    # GET /account/filters/edit: prepareFilter
    details = client.ok(client.filters_get(filter_id))
    assert details["name"] == "Newsletters"
    assert details["query"]["from"] == "news@example.com"
    assert details["query"]["ha"] is False and details["query"]["size"] == -1024 * 1024
    assert details["action"]["seen"] is True and details["action"]["mailbox"] == target
    assert [t if isinstance(t, str) else t["value"] for t in details["action"]["targets"]] == [
        "copy@other.test", "https://hooks.example.com/mail"]
    # POST /account/filters/edit: every field again, cleared ones as ""
    client.ok(client.filters_update(filter_id, filter_object(
        name="Newsletters", query_subject="weekly", action_flag=True, action_spam=False)))
    details = client.ok(client.filters_get(filter_id))
    assert details["query"].get("from") in (None, "")
    assert details["query"]["subject"] == "weekly"
    assert details["action"]["flag"] is True and details["action"]["spam"] is False
    assert not details["action"].get("mailbox") and not details["action"].get("targets")
    assert "seen" not in details["action"] or details["action"]["seen"] in ("", None)
    client.ok(client.filters_del(filter_id))
    assert client.ok(client.filters_list())["results"] == []


def test_filter_with_only_an_action(api, account):
    """A form with nothing but "Mark as seen": every query key is ""."""
    client = login(api, account)
    client.ok(client.filters_create(filter_object(action_seen=True)))


# -- autoreply, restore -------------------------------------------------------------


def test_autoreply_page_and_update(api, account):
    """GET/POST /account/autoreply: status, name, subject, text, start, end (Joi dates,
    serialized by JSON.stringify as ISO strings), "" for a cleared text field."""
    client = login(api, account)
    current = client.ok(client.autoreply_get())
    assert current["status"] is False
    for key in ("name", "subject", "text", "start", "end"):
        assert key in current, key
    client.ok(client.autoreply_update({"status": True, "name": "Mail User",
                                       "subject": "Away", "text": "Back on Monday",
                                       "start": "2030-01-01T00:00:00.000Z",
                                       "end": "2030-01-08T00:00:00.000Z"}))
    current = client.ok(client.autoreply_get())
    assert current["status"] is True and current["subject"] == "Away"
    assert current["text"] == "Back on Monday"
    assert current["start"].startswith("2030-01-01") and current["end"].startswith("2030-01-08")
    # turned off, fields emptied, no dates
    client.ok(client.autoreply_update({"status": False, "name": "", "subject": "", "text": ""}))
    current = client.ok(client.autoreply_get())
    assert current["status"] is False and current["subject"] == "" and current["text"] == ""


def test_restore_deleted_messages(api, account):
    """POST /account/restore: start and end as ISO strings, sess, ip."""
    client = login(api, account)
    client.ok(client.restore_create({"start": "2024-01-01T00:00:00.000Z",
                                     "end": "2024-02-01T00:00:00.000Z",
                                     "sess": SESS, "ip": IP}))


# -- identities (routes/account/identities.js) --------------------------------------


def test_identities_list_create_edit_delete(api, account):
    client = login(api, account)
    [main] = client.ok(client.addresses_list())["results"]
    assert main["main"] is True and isinstance(main["created"], str)
    assert main["name"] is False  # no name: false, as WildDuck answers
    created = client.ok(client.addresses_create({"name": "Sales", "address": "sales@example.com",
                                                 "main": False}))
    alias = created["id"]
    # the form without a name: Joi leaves `name` out
    client.ok(client.addresses_create({"address": "other@example.com", "main": False}))
    # GET /account/identities/edit
    details = client.ok(client.addresses_get(alias))
    assert details["address"] == "sales@example.com" and details["main"] is False
    assert details["name"] == "Sales"
    # POST /account/identities/edit with the address unchanged: name, main when checked
    client.ok(client.addresses_update(alias, {"name": "Sales team",
                                              "address": "sales@example.com"}))
    assert client.ok(client.addresses_get(alias))["name"] == "Sales team"
    client.ok(client.addresses_update(alias, {"name": "Sales team",
                                              "address": "sales@example.com", "main": True}))
    assert deserialize(client)["address"] == "sales@example.com"
    client.ok(client.addresses_del(main["id"]))
    assert len(client.ok(client.addresses_list())["results"]) == 2


def test_identity_edit_renames_the_address(api, account):
    """POST /account/identities/edit with a new local part: WildDuck renames the address."""
    client = login(api, account)
    alias = client.ok(client.addresses_create({"name": "Sales", "address": "sales@example.com",
                                               "main": False}))["id"]
    client.ok(client.addresses_update(alias, {"name": "Sales",
                                              "address": "sales-team@example.com"}))
    assert client.ok(client.addresses_get(alias))["address"] == "sales-team@example.com"
