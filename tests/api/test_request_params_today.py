"""Request parameters today's WildDuck accepts on each route, accepted here too
(docs/compatibility.md). Found by comparing every route's keys with WildDuck's request
schemas."""
from __future__ import annotations

AUDIT = {"sess": "sess-1", "ip": "192.0.2.10"}
QUERY = "?sess=sess-1&ip=192.0.2.10"


def test_sess_and_ip_are_accepted_wherever_wildduck_takes_them(api, make_user):
    user = make_user("audited", address="audited@example.com")
    address = api.post(f"/users/{user}/addresses", {"address": "second@example.com", **AUDIT})
    assert address.status == 200, address
    address_id = address["id"]
    asp = api.post(f"/users/{user}/asps", {"description": "phone"})["id"]
    flt = api.post(f"/users/{user}/filters", {"query": {"from": "x"},
                                              "action": {"seen": True}})["id"]
    alias = api.post("/domainaliases", {"alias": "alias.example.net",
                                        "domain": "example.com"})["id"]
    reads = [f"/users/{user}", f"/users/{user}/addresses", f"/users/{user}/addresses/{address_id}",
             f"/users/{user}/asps/{asp}", f"/users/{user}/filters/{flt}",
             f"/users/{user}/autoreply", "/addresses/resolve/second@example.com",
             "/domainaliases/resolve/alias.example.net", f"/domainaliases/{alias}"]
    for path in reads:
        reply = api.get(path + QUERY)
        assert reply.status == 200, (path, reply)
    changed = api.put(f"/users/{user}/addresses/{address_id}", {"name": "Second", **AUDIT})
    assert changed.status == 200, changed
    assert api.put(f"/users/{user}/logout", {"reason": "bye", **AUDIT}).status == 200
    assert api.delete(f"/users/{user}/addresses/{address_id}{QUERY}").status == 200
    assert api.delete(f"/domainaliases/{alias}{QUERY}").status == 200


def test_a_bad_ip_is_still_refused_on_those_routes(api, make_user):
    user = make_user("audited2")
    reply = api.get(f"/users/{user}?ip=not-an-ip")
    assert reply.status == 400 and "ip" in reply["details"]


def test_asps_with_a_ttl_are_listed_only_with_show_all(api, make_user):
    user = make_user("temporaries")
    lasting = api.post(f"/users/{user}/asps", {"description": "laptop"})["id"]
    temporary = api.post(f"/users/{user}/asps", {"description": "webmail", "ttl": 3600})["id"]
    listed = [item["id"] for item in api.get(f"/users/{user}/asps")["results"]]
    assert listed == [lasting]
    everything = api.get(f"/users/{user}/asps?showAll=true")["results"]
    assert sorted(item["id"] for item in everything) == sorted([lasting, temporary])
    assert api.get(f"/users/{user}/asps?showAll=false")["results"][0]["id"] == lasting


def test_address_search_by_forward_target_finds_forwarded_addresses(api, make_user):
    make_user("plain", address="plain@example.com")
    to_mail = api.post("/addresses/forwarded", {"address": "fwd1@example.com",
                                                "targets": ["Dest@Example.org"]})["id"]
    to_url = api.post("/addresses/forwarded", {"address": "fwd2@example.com",
                                               "targets": ["https://hooks.example.org/in"]})["id"]
    found = api.get("/addresses?forward=Dest@example.org")
    assert found.status == 200, found
    assert [item["id"] for item in found["results"]] == [to_mail] and found["total"] == 1
    by_url = api.get("/addresses?forward=https://hooks.example.org/in")
    assert [item["id"] for item in by_url["results"]] == [to_url]
    assert api.get("/addresses?forward=nobody@example.org")["results"] == []
    assert api.get("/addresses?forward=")["total"] == 3  # empty: no condition


def test_authlog_action_is_matched_in_lower_case_and_takes_100_characters(api, make_user):
    user = make_user("logged", password="pw")
    assert api.post("/authenticate", {"username": "logged", "password": "pw"}).status == 200
    found = api.get(f"/users/{user}/authlog?action=%20Authentication%20")
    assert found.status == 200 and found["results"], found
    assert {entry["action"] for entry in found["results"]} == {"authentication"}
    assert api.get(f"/users/{user}/authlog?action={'a' * 100}").status == 200
    too_long = api.get(f"/users/{user}/authlog?action={'a' * 101}")
    assert too_long.status == 400 and "action" in too_long["details"]


def test_attachment_ids_are_taken_in_any_case_and_unknown_ones_are_404(api, account):
    import base64
    upload = api.post(account.messages(), {
        "from": {"address": "a@example.com"}, "to": [{"address": "b@example.com"}],
        "subject": "file", "text": "see attached",
        "attachments": [{"filename": "a.txt", "contentType": "text/plain",
                         "content": base64.b64encode(b"hello").decode()}]})
    assert upload.status == 200, upload
    uid = upload["message"]["id"]
    lower = api.get(f"{account.messages()}/{uid}/attachments/att00001")
    assert lower.status == 200 and lower.raw == b"hello", lower
    unknown = api.get(f"{account.messages()}/{uid}/attachments/ATT1")
    assert unknown.status == 404 and unknown["code"] == "AttachmentNotFound"
    assert api.get(f"{account.messages()}/{uid}/attachments/file1").status == 400


def test_password_reset_valid_after_delays_the_temporary_password(api, make_user,
                                                                   monkeypatch):
    import time
    from datetime import datetime, timezone

    from chalicelib.services import users
    user = make_user("later", password="old-password")
    start = time.time() + 3600
    reply = api.post(f"/users/{user}/password/reset", {
        "validAfter": datetime.fromtimestamp(start, tz=timezone.utc).isoformat()})
    assert reply.status == 200, reply
    early = api.post("/authenticate", {"username": "later", "password": reply["password"]})
    assert early.status == 403 and early["code"] == "TempPasswordNotYetValid"
    assert early["error"] == "Temporary password is not yet activated"
    assert api.post("/authenticate", {"username": "later",
                                      "password": "old-password"}).status == 200
    monkeypatch.setattr(users, "now_ms", lambda: int((start + 60) * 1000))
    on_time = api.post("/authenticate", {"username": "later", "password": reply["password"]})
    assert on_time.status == 200 and on_time["requirePasswordChange"] is True
    # 24 hours from validAfter, not from the reset
    monkeypatch.setattr(users, "now_ms", lambda: int((start + 24 * 3600 - 60) * 1000))
    assert api.post("/authenticate", {"username": "later",
                                      "password": reply["password"]}).status == 200


def test_password_reset_valid_after_false_or_empty_means_now(api, make_user):
    user = make_user("atonce", password="old-password")
    for value in (False, ""):
        reply = api.post(f"/users/{user}/password/reset", {"validAfter": value})
        assert reply.status == 200, reply
        assert api.post("/authenticate", {"username": "atonce",
                                          "password": reply["password"]}).status == 200
    assert api.post(f"/users/{user}/password/reset", {"validAfter": "soon"}).status == 400


def test_language_is_any_text_of_at_most_20_characters(api, make_user):
    from tests.support import mailbox_ids
    user = make_user("polyglot", language="Estonian (et-EE)")
    assert api.get(f"/users/{user}")["language"] == "Estonian (et-EE)"
    assert "Sent Mail" in mailbox_ids(user)  # no known language: English folder names
    assert api.put(f"/users/{user}", {"language": "et_EE"}).status == 200
    too_long = api.put(f"/users/{user}", {"language": "x" * 21})
    assert too_long.status == 400 and "language" in too_long["details"]


def test_empty_name_language_or_existing_password_change_nothing(api, make_user):
    user = make_user("keeper", password="pw-one", name="Kee Per", language="et")
    assert api.put(f"/users/{user}", {"name": "", "language": "", "existingPassword": "",
                                      "spamLevel": 10}).status == 200
    shown = api.get(f"/users/{user}").json
    assert (shown["name"], shown["language"], shown["spamLevel"]) == ("Kee Per", "et", 10)


def test_authentication_without_protocol_is_logged_as_api(api, make_user):
    user = make_user("noproto", password="pw")
    assert api.post("/authenticate", {"username": "noproto", "password": "pw"}).status == 200
    assert api.post("/authenticate", {"username": "noproto", "password": "no"}).status == 403
    entries = api.get(f"/users/{user}/authlog?action=authentication")["results"]
    assert [entry["protocol"] for entry in entries] == ["API", "API"]
