"""/authenticate: which credential matched, as the authlog records it."""
from __future__ import annotations

import pyotp


def sources(api, user_id):
    entries = api.get(f"/users/{user_id}/authlog?action=authentication")["results"]
    return [(e["result"], e.get("source"), e.get("scope")) for e in reversed(entries)]


def test_authlog_names_the_source_master_asp_or_temporary(api, make_user):
    user_id = make_user("sourced", password="master-pw")
    asp = api.post(f"/users/{user_id}/asps", {"description": "client"})["password"]
    api.post("/authenticate", {"username": "sourced", "password": "master-pw"})
    api.post("/authenticate", {"username": "sourced", "password": asp, "scope": "smtp"})
    temporary = api.post(f"/users/{user_id}/password/reset")["password"]
    api.post("/authenticate", {"username": "sourced", "password": temporary})
    api.post("/authenticate", {"username": "sourced", "password": "nope", "scope": "pop3"})
    assert sources(api, user_id) == [("success", "master", "master"), ("success", "asp", "smtp"),
                                     ("success", "temporary", "master"),
                                     ("fail", None, "pop3")]


def test_master_password_of_asp_form_still_works_for_mail_scopes(api, make_user):
    make_user("lettersonly", password="abcdefghijklmnop")
    reply = api.post("/authenticate", {"username": "lettersonly",
                                       "password": "abcdefghijklmnop", "scope": "imap"})
    assert reply.status == 200


def test_password_reset_turns_2fa_off(api, make_user):
    user_id = make_user("resetter", password="pw")
    seed = api.post(f"/users/{user_id}/2fa/totp/setup", {})["seed"]
    api.post(f"/users/{user_id}/2fa/totp/enable", {"token": pyotp.TOTP(seed).now()})
    temporary = api.post(f"/users/{user_id}/password/reset")["password"]
    reply = api.post("/authenticate", {"username": "resetter", "password": temporary})
    assert reply["require2fa"] is False and reply["requirePasswordChange"] is True
    assert api.get(f"/users/{user_id}")["enabled2fa"] == []


def test_token_flag_spellings_and_bad_values(api, make_user):
    make_user("flags", password="pw")
    ok = api.post("/authenticate", {"username": "flags", "password": "pw", "token": "yes"})
    assert ok.status == 200 and len(ok["token"]) == 40
    bad = api.post("/authenticate", {"username": "flags", "password": "pw", "token": "perhaps"})
    assert bad.status == 400 and "token" in bad["details"]
