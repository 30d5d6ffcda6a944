"""Bad input is answered 400 with a stable code, and nothing accepted breaks a later read.

Each test here names a request that once answered 500 (or stored a value that made later
reads answer 500): out-of-range dates and numbers, JSON too deep or too large, lone
surrogates and control characters, a TOTP label too long for a QR code, and the bulk
form of the message update route.
"""
from __future__ import annotations

import json

import pytest

from tests.support import simple_message, upload_raw

BAD = "InputValidationError"


def send(api, method, path, text, content_type="application/json"):
    """A request with a body given as text, for JSON that json.dumps would not write."""
    return api.call(method, path, raw=text.encode("utf-8", "surrogatepass"),
                    headers={"content-type": content_type})


def assert_bad(reply, field=None):
    assert reply.status == 400, reply
    assert reply["code"] == BAD, reply
    if field is not None:
        assert field in reply["details"], reply


def trash_of(api, account):  # noqa: F811
    return account.boxes["Trash"]


# ------------------------------------------------------------- 1. dates and numbers


def test_far_future_expires_on_a_move_is_refused_and_the_target_stays_listable(api, account):  # noqa: F811
    assert upload_raw(api, account, simple_message()).status == 200
    trash = trash_of(api, account)
    reply = api.put(f"{account.messages()}/1",
                    {"moveTo": trash, "expires": "999999999999999"})
    assert_bad(reply, "expires")
    assert api.get(account.messages(trash)).status == 200
    assert api.get(account.messages()).status == 200


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "-1e20", "1e300", "1e400",
                                   '"999999999999999"', '"10000-01-01T00:00:00Z"',
                                   '"-1"', "-1", '"Infinity"', '"nan"'])
def test_expires_out_of_range_is_refused(api, account, value):  # noqa: F811
    assert upload_raw(api, account, simple_message()).status == 200
    reply = send(api, "PUT", f"{account.messages()}/1", f'{{"expires": {value}}}')
    assert_bad(reply)
    listing = api.get(account.messages())
    assert listing.status == 200 and listing["results"][0]["id"] == 1


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-1e20", "1e300", '"Infinity"',
                                   '"999999999999999"', "-1"])
def test_upload_date_out_of_range_is_refused(api, account, value):  # noqa: F811
    raw = json.dumps(simple_message().decode())
    reply = send(api, "POST", account.messages(), f'{{"raw": {raw}, "date": {value}}}')
    assert_bad(reply)
    assert api.get(account.messages()).status == 200


def test_the_last_date_of_year_9999_is_accepted_and_readable(api, account):  # noqa: F811
    assert upload_raw(api, account, simple_message()).status == 200
    last = "9999-12-31T23:59:59.999Z"
    reply = api.put(f"{account.messages()}/1", {"moveTo": trash_of(api, account),
                                                "expires": last})
    assert reply.status == 200, reply
    listing = api.get(account.messages(trash_of(api, account)))
    assert listing.status == 200, listing
    message = api.get(f"{account.messages(trash_of(api, account))}/1")
    assert message.status == 200 and message["expires"] == last


@pytest.mark.parametrize("method, path, field, value", [
    ("POST", "/users", "quota", "1e300"),
    ("POST", "/users", "body", "Infinity"),  # not JSON numbers: refused with the body
    ("POST", "/users", "body", "1e400"),
    ("POST", "/users", "retention", "-1e20"),
    ("POST", "/users", "recipients", "1e300"),
    ("GET", "/users?limit={v}", "limit", "1e300"),
    ("GET", "/users?page={v}", "page", "99999999999999999999999"),
])
def test_numbers_out_of_range_are_refused(api, method, path, field, value):
    if method == "GET":
        reply = api.get(path.format(v=value))
    else:
        name = "quota" if field == "body" else field
        reply = send(api, method, path, f'{{"username": "nums", "password": "pw", '
                                        f'"{name}": {value}}}')
    assert_bad(reply, field)


def test_every_numeric_schema_field_has_an_upper_bound():
    """A guard for new fields: each int in every schema declares le= (or a custom type)."""
    import annotated_types

    from chalicelib.schemas import addresses, asps, auth, mailboxes, messages, twofa, users
    from chalicelib.validation import Schema

    unbounded = []
    for module in (addresses, asps, auth, mailboxes, messages, twofa, users):
        for name in dir(module):
            model = getattr(module, name)
            if not (isinstance(model, type) and issubclass(model, Schema)):
                continue
            model.model_rebuild()
            for field_name, info in model.model_fields.items():
                if info.annotation not in (int, int | None):
                    continue
                bounded = any(isinstance(m, (annotated_types.Le, annotated_types.Lt))
                              for m in info.metadata)
                custom = any(type(m).__name__ == "BeforeValidator" and
                             getattr(m.func, "__name__", "") in ("_epoch_ms", "_expires", "_uid")
                             for m in info.metadata)
                if not (bounded or custom):
                    unbounded.append(f"{model.__name__}.{field_name}")
    assert unbounded == []


# ------------------------------------------------------------- 2. deep and huge bodies


def test_json_nested_a_thousand_levels_is_refused(api):
    reply = send(api, "POST", "/users", '{"username": ' + "[" * 1000 + "]" * 1000 + "}")
    assert_bad(reply, "body")


def test_json_nested_deeper_than_the_limit_is_refused(api):
    reply = send(api, "POST", "/users", '{"a": ' + "[" * 40 + "]" * 40 + "}")
    assert_bad(reply, "body")


def test_json_with_too_many_items_is_refused(api):
    reply = send(api, "POST", "/users", json.dumps({"tags": ["t"] * 200_000}))
    assert_bad(reply, "body")


def test_json_with_too_many_keys_is_refused(api):
    reply = send(api, "POST", "/users", json.dumps({f"k{i}": 1 for i in range(20_000)}))
    assert_bad(reply, "body")


def test_form_body_with_too_many_fields_is_refused(api):
    body = "&".join(f"k{i}=1" for i in range(20_000))
    reply = send(api, "POST", "/users", body, "application/x-www-form-urlencoded")
    assert_bad(reply, "body")


def test_too_large_a_body_is_refused(api, monkeypatch):
    from chalicelib import request_limits
    monkeypatch.setattr(request_limits, "MAX_BODY_BYTES", 1000)
    reply = send(api, "POST", "/users", json.dumps({"username": "big", "name": "n" * 2000,
                                                    "password": "pw"}))
    assert_bad(reply, "body")


# ------------------------------------------------------------- 3. surrogates and controls

SURROGATE = '"a\\ud800"'


@pytest.mark.parametrize("field", ["username", "password", "name", "address", "tags",
                                   "language", "pubKey", "sess"])
def test_lone_surrogate_in_any_user_field_is_refused(api, field):
    body = {"username": "surr", "password": "pw"}
    text = json.dumps(body)[:-1] + f', "{field}": {SURROGATE}}}'
    assert_bad(send(api, "POST", "/users", text))
    assert api.get("/users").status == 200


def test_lone_surrogate_in_a_key_is_refused(api):
    assert_bad(send(api, "POST", "/users", '{"a\\udc00": 1}'))


def test_lone_surrogate_in_a_mailbox_path_is_refused(api, make_user):
    user_id = make_user("paths")
    assert_bad(send(api, "POST", f"/users/{user_id}/mailboxes", f'{{"path": {SURROGATE}}}'))
    assert api.get(f"/users/{user_id}/mailboxes").status == 200


def test_lone_surrogate_in_a_json_raw_message_is_refused(api, account):  # noqa: F811
    raw = json.dumps(simple_message().decode()).replace("Hi there", "Hi \\udfff there")
    assert_bad(send(api, "POST", account.messages(), f'{{"raw": {raw}}}'))
    assert api.get(account.messages()).status == 200


@pytest.mark.parametrize("field, value", [
    ("subject", SURROGATE), ("text", SURROGATE), ("html", SURROGATE),
    ("to", f'[{{"name": {SURROGATE}, "address": "x@example.com"}}]'),
    ("to", f'[{{"address": {SURROGATE}}}]'),
])
def test_lone_surrogate_in_composed_fields_is_refused(api, account, field, value):  # noqa: F811
    text = f'{{"from": {{"address": "a@example.com"}}, "{field}": {value}}}'
    assert_bad(send(api, "POST", account.messages(), text))


def test_lone_surrogate_in_the_query_string_is_refused(api, make_user):
    user_id = make_user("qsurr")
    reply = api.get(f"/users/{user_id}/mailboxes/resolve?path=%ED%A0%80")
    # undecodable bytes are either replaced (then NoSuchMailbox) or refused; never 500
    assert reply.status in (400, 404), reply


@pytest.mark.parametrize("address", ["a\u0000b@example.com", "a\u0007b@example.com",
                                     "a\u0085b@example.com", "a\u007fb@example.com",
                                     "ab@exa\u0000mple.com", "ab@example.com\u0000"])
def test_control_characters_in_addresses_are_refused(api, make_user, address):
    user_id = make_user("ctl", emptyAddress=True)
    assert_bad(api.post(f"/users/{user_id}/addresses", {"address": address}), "address")
    assert_bad(api.post("/users", {"username": "ctl2", "password": "pw", "address": address}),
               "address")


@pytest.mark.parametrize("field, value", [
    ("name", "a\u0000b"), ("name", "a\nb"), ("name", "a\u009bb"), ("tags", ["ok", "a\u0001b"]),
    ("username", "a\u0000b"), ("sess", "s\u0000"), ("language", "e\u0000n"),
])
def test_control_characters_in_user_fields_are_refused(api, field, value):
    reply = api.post("/users", {"username": "ctluser", "password": "pw", field: value})
    assert_bad(reply, field)


@pytest.mark.parametrize("path", ["a\u0000b", "a\u0085b", "a\u009fb", "a\tb", "a\nb"])
def test_control_characters_in_mailbox_paths_are_refused(api, make_user, path):
    user_id = make_user("ctlpath")
    assert_bad(api.post(f"/users/{user_id}/mailboxes", {"path": path}), "path")


@pytest.mark.parametrize("field, value", [
    ("subject", "Hi\r\nBcc: victim@example.com"), ("subject", "a\u0000"),
    ("to", [{"name": "a\nb", "address": "x@example.com"}]),
    ("headers", [{"key": "X-A", "value": "1\r\nBcc: v@example.com"}]),
    ("attachments", [{"filename": "a\u0000.txt", "content": "aGk="}]),
])
def test_control_characters_in_single_line_message_fields_are_refused(api, account, field,  # noqa: F811
                                                                      value):
    reply = api.post(account.messages(), {"from": {"address": "a@example.com"}, field: value})
    assert_bad(reply)


def test_multi_line_text_keeps_tabs_and_line_breaks(api, account):  # noqa: F811
    reply = api.post(account.messages(), {"from": {"address": "a@example.com"},
                                          "text": "one\ttwo\r\nthree\nfour"})
    assert reply.status == 200, reply
    text = api.get(f"{account.messages()}/1")["text"]
    assert "one\ttwo" in text and "three" in text and "four" in text


def test_nul_in_message_text_is_refused(api, account):  # noqa: F811
    reply = api.post(account.messages(), {"from": {"address": "a@example.com"},
                                          "text": "a\u0000b"})
    assert_bad(reply, "text")


# ------------------------------------------------------------- 4. TOTP label and issuer


@pytest.mark.parametrize("label, issuer", [
    ("l" * 255, None), ("\U0001F600" * 255, None), ("é" * 255, "é" * 255),
    ("\U0001F600" * 40, "\U0001F600" * 255),
])
def test_totp_setup_with_a_long_label_is_refused_or_answered_never_500(api, make_user, label,
                                                                       issuer):
    user_id = make_user("qr")
    body = {"label": label, **({"issuer": issuer} if issuer else {})}
    reply = api.post(f"/users/{user_id}/2fa/totp/setup", body)
    assert reply.status in (200, 400), reply
    if reply.status == 400:
        assert reply["code"] == BAD


def test_totp_setup_with_the_longest_accepted_label_and_issuer_gives_a_qr_code(api, make_user):
    from chalicelib.security.totp import MAX_ISSUER_BYTES, MAX_LABEL_BYTES

    user_id = make_user("qrmax")
    # the worst characters: astral ones, 12 bytes each once percent-encoded
    label = "\U0001F600" * (MAX_LABEL_BYTES // 12)
    issuer = "\U0001F4E7" * (MAX_ISSUER_BYTES // 12)
    reply = api.post(f"/users/{user_id}/2fa/totp/setup", {"label": label, "issuer": issuer})
    assert reply.status == 200, reply
    assert reply["qrcode"].startswith("data:image/png;base64,")
    over = api.post(f"/users/{user_id}/2fa/totp/setup",
                    {"label": label + "\U0001F600", "issuer": issuer, "fresh": True})
    assert_bad(over, "label")
    over = api.post(f"/users/{user_id}/2fa/totp/setup",
                    {"label": label, "issuer": issuer + "\U0001F600", "fresh": True})
    assert_bad(over, "issuer")
    ascii_max = api.post(f"/users/{user_id}/2fa/totp/setup",
                         {"label": "l" * 255, "issuer": "i" * 255, "fresh": True})
    assert ascii_max.status == 200, ascii_max


@pytest.mark.parametrize("field", ["label", "issuer"])
def test_totp_label_and_issuer_are_single_line(api, make_user, field):
    user_id = make_user("qrctl")
    assert_bad(api.post(f"/users/{user_id}/2fa/totp/setup", {field: "a\nb"}), field)


# ------------------------------------------------------------- 5. bulk update route


def test_bulk_update_takes_the_target_from_the_body(api, account):  # noqa: F811
    for index in range(3):
        assert upload_raw(api, account, simple_message(f"m{index}"), query="unseen=true").status == 200
    reply = api.put(account.messages(), {"message": "1:*", "seen": True})
    assert reply.json == {"success": True, "updated": 3}
    assert all(m["seen"] for m in api.get(account.messages())["results"])


def test_bulk_update_takes_the_target_from_the_query(api, account):  # noqa: F811
    assert upload_raw(api, account, simple_message()).status == 200
    reply = api.put(f"{account.messages()}?message=1", {"flagged": True})
    assert reply.json == {"success": True, "updated": 1}


def test_bulk_move_answers_the_new_uids(api, account):  # noqa: F811
    for index in range(2):
        assert upload_raw(api, account, simple_message(f"m{index}")).status == 200
    trash = trash_of(api, account)
    reply = api.put(account.messages(), {"message": "1,2", "moveTo": trash})
    assert reply.status == 200, reply
    assert reply["mailbox"] == trash and sorted(reply["id"]) == [[1, 1], [2, 2]]
    assert api.get(account.messages(trash))["total"] == 2


@pytest.mark.parametrize("body", [{"seen": True}, {"message": "", "seen": True},
                                  {"message": "x", "seen": True},
                                  {"message": "1", "expires": "1e300"}])
def test_bulk_update_validates_like_the_single_form(api, account, body):  # noqa: F811
    assert upload_raw(api, account, simple_message()).status == 200
    assert_bad(api.put(account.messages(), body))


def test_bulk_update_of_missing_messages_is_404(api, account):  # noqa: F811
    reply = api.put(account.messages(), {"message": "7", "seen": True})
    assert reply.status == 404 and reply["code"] == "MessageNotFound"


def test_bulk_update_route_is_in_the_openapi_document(api):
    doc = api.get("/openapi.json").json
    assert "put" in doc["paths"]["/users/{user}/mailboxes/{mailbox}/messages"]


# ------------------------------------------------------------- odd shapes: never a 500


@pytest.mark.parametrize("body", [
    '{"tags": [1, {}, null]}', '{"name": ["x"]}', '{"quota": "1e3"}', '{"quota": 1.5}',
    '{"quota": true}', '{"address": {"a": 1}}', '{"username": 12}', '{"password": []}',
    '{"disabledScopes": "imap,\\u0000"}', '{"language": "\\ud83d\\ude00"}', '[]', '"x"',
    '{"":1}', '{"ip": "999.1.1.1"}', '{"ip": "\\u0661.1.1.1"}', "{\"a\": 1e-400}",
    '{"username": "u", "password": "p", "pubKey": "-----BEGIN PGP PUBLIC KEY BLOCK-----"}',
])
def test_odd_user_bodies_are_400(api, body):
    reply = send(api, "POST", "/users", body)
    assert reply.status == 400, reply
    assert reply["code"] in (BAD, "UserExistsError")


@pytest.mark.parametrize("body", [
    {"to": [[]]}, {"to": "not an address"}, {"attachments": [{"content": "!!!"}]},
    {"attachments": [{"content": "aGk=", "contentType": "multipart/mixed"}], "text": "x"},
    {"raw": "no colon and not base64 \u00fc"}, {"raw": ":"}, {"raw": 12},
    {"date": "2024-02-30"}, {"date": "Mon, 1 Jan 10000 00:00:00 +0000", "text": "x"},
    {"date": "9999-12-31T23:59:59-23:59", "text": "x"}, {"date": True, "text": "x"},
    {"date": [1], "text": "x"}, {"headers": [{"key": "Bad Key", "value": "x"}]},
    {"headers": [{"key": "Content-Type", "value": "text/html"}], "text": "x"},
    {"uploadId": "0" * 24}, {"from": {"address": "a@example.com", "x": 1}},
])
def test_odd_upload_bodies_are_answered_never_500(api, account, body):  # noqa: F811
    reply = api.post(account.messages(), body)
    assert reply.status < 500, reply
    assert api.get(account.messages()).status == 200


@pytest.mark.parametrize("body", [{"expires": True}, {"expires": [1]}, {"expires": {}},
                                  {"expires": "false"}, {"expires": False},
                                  {"moveTo": "0" * 24}, {"seen": "maybe"}])
def test_odd_update_bodies_are_answered_never_500(api, account, body):  # noqa: F811
    assert upload_raw(api, account, simple_message()).status == 200
    reply = api.put(f"{account.messages()}/1", body)
    assert reply.status < 500, reply
    assert api.get(account.messages()).status == 200


def test_the_last_millisecond_of_9999_is_stored_as_given(api, make_user):
    from tests.support import mailbox_ids
    user_id = make_user("lastdate")
    inbox = mailbox_ids(user_id)["INBOX"]
    path = f"/users/{user_id}/mailboxes/{inbox}/messages"
    stored = api.post(path, {"subject": "s", "text": "t", "date": "9999-12-31T23:59:59.999Z"})
    assert stored.status == 200, stored
    listed = api.get(path)["results"][0]
    assert listed["idate"] == "9999-12-31T23:59:59.999Z"


def test_a_date_header_beyond_the_range_is_shown_at_its_edge(api, make_user):
    from tests.support import mailbox_ids
    user_id = make_user("farheader")
    inbox = mailbox_ids(user_id)["INBOX"]
    raw = "From: a@example.com\r\nDate: Mon, 1 Jan 1900 00:00:00 +0000\r\nSubject: old\r\n\r\nx\r\n"
    assert api.post(f"/users/{user_id}/mailboxes/{inbox}/messages", {"raw": raw}).status == 200
    listed = api.get(f"/users/{user_id}/mailboxes/{inbox}/messages")["results"][0]
    assert listed["date"] == "1970-01-01T00:00:00.000Z"
