"""HTTP behaviour of /users/{user}/2fa: TOTP setup, enable, check, disable."""
from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
from botocore.exceptions import ClientError

from chalicelib.security.totp import otpauth_uri, qr_data_url
from chalicelib.store import secrets
from chalicelib.store.keys import KeyItem
from chalicelib.store.users import UserItem
from devstack.calls import counting

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def setup_totp(api, user_id, **body):
    reply = api.post(f"/users/{user_id}/2fa/totp/setup", body)
    assert reply.status == 200, reply
    return reply


def enabled_seed(api, user_id):
    seed = setup_totp(api, user_id)["seed"]
    reply = api.post(f"/users/{user_id}/2fa/totp/enable", {"token": pyotp.TOTP(seed).now()})
    assert reply.status == 200, reply
    return seed


def actions(api, user_id):
    return [(e["action"], e.get("result")) for e in api.get(f"/users/{user_id}/authlog")["results"]]


def test_setup_returns_the_seed_and_a_png_qr_code_of_the_otpauth_uri(api, make_user):
    user_id = make_user("qruser")
    reply = setup_totp(api, user_id, issuer="Acme Mail", label="qr@example.com")
    seed = reply["seed"]
    assert len(base64.b32decode(seed)) == 20
    prefix = "data:image/png;base64,"
    assert reply["qrcode"].startswith(prefix)
    png = base64.b64decode(reply["qrcode"][len(prefix):])
    assert png.startswith(PNG_SIGNATURE)
    # The QR is drawn deterministically: the same URI gives the same PNG, so this pins
    # down exactly what the code says.
    uri = otpauth_uri(seed, "qr@example.com", "Acme Mail")
    assert qr_data_url(uri) == reply["qrcode"]
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert unquote(parsed.path) == "/Acme Mail:qr@example.com"
    assert parse_qs(parsed.query) == {"secret": [seed], "issuer": ["Acme Mail"]}


def test_setup_labels_with_the_username_and_configured_issuer_by_default(api, make_user):
    user_id = make_user("plainlabel")
    reply = setup_totp(api, user_id)
    assert qr_data_url(otpauth_uri(reply["seed"], "plainlabel", "WildDuck")) == reply["qrcode"]


def test_full_totp_flow_accepts_a_token_once(api, make_user):
    user_id = make_user("twofa", password="pw")
    seed = setup_totp(api, user_id)["seed"]
    totp = pyotp.TOTP(seed)
    assert api.post(f"/users/{user_id}/2fa/totp/enable", {"token": totp.now()}).status == 200
    assert api.get(f"/users/{user_id}")["enabled2fa"] == ["totp"]

    login = api.post("/authenticate", {"username": "twofa", "password": "pw"})
    assert login.status == 200 and login["require2fa"] == ["totp"]

    token = totp.now()
    assert api.post(f"/users/{user_id}/2fa/totp/check", {"token": token}).status == 200
    again = api.post(f"/users/{user_id}/2fa/totp/check", {"token": token})
    assert again.status == 403 and again["code"] == "InvalidToken"
    [guard] = [item for item in KeyItem.scan() if item.key.startswith(f"totp#{user_id}#")]
    step = int(guard.key.rsplit("#", 1)[1])
    assert totp.at(step * 30) == token and step * 30 < guard.expires <= step * 30 + 150
    logged = actions(api, user_id)
    assert ("enable 2fa totp", "success") in logged
    assert ("check 2fa totp", "success") in logged and ("check 2fa totp", "fail") in logged


def test_check_tolerates_one_step_of_drift_but_not_more(api, make_user):
    user_id = make_user("drift")
    totp = pyotp.TOTP(enabled_seed(api, user_id))
    if time.time() % 30 > 28:  # keep the server's step where the test thinks it is
        time.sleep(2.5)
    now = time.time()
    assert api.post(f"/users/{user_id}/2fa/totp/check",
                    {"token": totp.at(now - 30)}).status == 200
    assert api.post(f"/users/{user_id}/2fa/totp/check",
                    {"token": totp.at(now + 90)})["code"] == "InvalidToken"


def test_setup_is_refused_once_totp_is_enabled(api, make_user):
    user_id = make_user("already")
    enabled_seed(api, user_id)
    reply = api.post(f"/users/{user_id}/2fa/totp/setup", {})
    assert reply.status == 400 and reply["code"] == "TotpEnabled"
    again = api.post(f"/users/{user_id}/2fa/totp/enable", {"token": "123456"})
    assert again.status == 400 and again["code"] == "TotpEnabled"


def test_setup_reuses_the_pending_seed_unless_fresh(api, make_user):
    user_id = make_user("pending")
    first = setup_totp(api, user_id)["seed"]
    assert setup_totp(api, user_id)["seed"] == first
    assert setup_totp(api, user_id, fresh=True)["seed"] != first


def test_enable_with_a_wrong_token_is_400_invalid_token(api, make_user):
    user_id = make_user("wrongtoken")
    seed = setup_totp(api, user_id)["seed"]
    wrong = f"{(int(pyotp.TOTP(seed).now()) + 1) % 1_000_000:06d}"
    reply = api.post(f"/users/{user_id}/2fa/totp/enable", {"token": wrong})
    assert reply.status == 400 and reply["code"] == "InvalidToken"
    assert api.get(f"/users/{user_id}")["enabled2fa"] == []


def test_enable_needs_a_pending_seed_younger_than_six_hours(api, make_user):
    user_id = make_user("stale")
    assert api.post(f"/users/{user_id}/2fa/totp/enable",
                    {"token": "123456"})["code"] == "TotpDisabled"
    seed = setup_totp(api, user_id)["seed"]
    item = UserItem.get(user_id)
    stored = item.totp.as_dict()
    item.update(actions=[UserItem.totp.set({**stored, "created": stored["created"] - 6 * 3600 * 1000 - 1})])
    reply = api.post(f"/users/{user_id}/2fa/totp/enable", {"token": pyotp.TOTP(seed).now()})
    assert reply.status == 400 and reply["code"] == "TotpDisabled"


def test_check_without_totp_is_totp_disabled(api, make_user):
    user_id = make_user("nototp")
    reply = api.post(f"/users/{user_id}/2fa/totp/check", {"token": "123456"})
    assert reply.status == 400 and reply["code"] == "TotpDisabled"


def test_master_password_with_2fa_is_limited_to_master_scope(api, make_user):
    user_id = make_user("scoped2fa", password="pw")
    enabled_seed(api, user_id)
    reply = api.post("/authenticate", {"username": "scoped2fa", "password": "pw", "scope": "imap"})
    assert reply.status == 403 and reply["code"] == "InvalidAuthScope"


def test_disable_totp_lifts_2fa_and_is_logged(api, make_user):
    user_id = make_user("offagain", password="pw")
    enabled_seed(api, user_id)
    assert api.delete(f"/users/{user_id}/2fa/totp").status == 200
    login = api.post("/authenticate", {"username": "offagain", "password": "pw", "scope": "imap"})
    assert login.status == 200 and login["require2fa"] is False
    assert ("disable 2fa totp", "success") in actions(api, user_id)
    assert UserItem.get(user_id).totp is None
    again = api.delete(f"/users/{user_id}/2fa/totp")
    assert again.status == 400 and again["code"] == "TotpDisabled"


def test_disable_2fa_removes_every_method(api, make_user):
    user_id = make_user("alloff", password="pw")
    enabled_seed(api, user_id)
    assert api.delete(f"/users/{user_id}/2fa").status == 200
    assert api.get(f"/users/{user_id}")["enabled2fa"] == []
    assert api.post("/authenticate", {"username": "alloff", "password": "pw"})["require2fa"] is False
    assert ("disable 2fa", "success") in actions(api, user_id)


def test_twelve_failed_checks_lock_the_next_even_with_a_right_token(api, make_user):
    user_id = make_user("bruteforce")
    other = make_user("bystander")
    seed = enabled_seed(api, user_id)
    other_seed = enabled_seed(api, other)
    wrong = f"{(int(pyotp.TOTP(seed).now()) + 500_000) % 1_000_000:06d}"
    for _ in range(12):
        reply = api.post(f"/users/{user_id}/2fa/totp/check", {"token": wrong})
        assert reply["code"] == "InvalidToken"
    locked = api.post(f"/users/{user_id}/2fa/totp/check", {"token": pyotp.TOTP(seed).now()})
    assert locked.status == 403 and locked["code"] == "RateLimitedError"
    assert 0 < int(locked.headers["Retry-After"]) <= 120
    assert api.post(f"/users/{other}/2fa/totp/check",
                    {"token": pyotp.TOTP(other_seed).now()}).status == 200


def test_seed_is_encrypted_at_rest_and_never_shown_or_logged_after_setup(api, make_user, capsys):
    user_id = make_user("secretive", password="pw")
    capsys.readouterr()
    seed = setup_totp(api, user_id)["seed"]
    stored = UserItem.get(user_id).totp.as_dict()
    assert seed not in str(stored)
    assert secrets.decrypt(stored["seed"], {"user": user_id, "purpose": "totp"}) == seed
    totp = pyotp.TOTP(seed)
    bodies = [
        api.post(f"/users/{user_id}/2fa/totp/enable", {"token": totp.now()}).raw,
        api.post(f"/users/{user_id}/2fa/totp/check", {"token": totp.now()}).raw,
        api.post(f"/users/{user_id}/2fa/totp/check", {"token": totp.now()}).raw,
        api.post(f"/users/{user_id}/2fa/totp/setup", {}).raw,
        api.post("/authenticate", {"username": "secretive", "password": "pw"}).raw,
        api.get(f"/users/{user_id}").raw,
        api.get("/users").raw,
        api.get(f"/users/{user_id}/authlog").raw,
    ]
    logged = capsys.readouterr().out
    for variant in (seed, seed.lower(), stored["seed"]):
        assert all(variant.encode() not in body for body in bodies)
        assert variant not in logged


def test_a_seed_does_not_decrypt_for_another_user(make_user, api):
    alice, bob = make_user("alice2"), make_user("bob2")
    setup_totp(api, alice)
    ciphertext = UserItem.get(alice).totp.as_dict()["seed"]
    with pytest.raises(ClientError, match="InvalidCiphertext"):
        secrets.decrypt(ciphertext, {"user": bob, "purpose": "totp"})


def test_check_budget_is_one_read_one_conditional_write_one_decrypt(api, make_user):
    user_id = make_user("budget")
    totp = pyotp.TOTP(enabled_seed(api, user_id))
    with counting() as calls:
        assert api.post(f"/users/{user_id}/2fa/totp/check", {"token": totp.now()}).status == 200
    # The conditional put of the replay guard carries the authlog entry in one transaction.
    assert calls.by_operation() == {"GetItem": 1, "TransactWriteItems": 1}
    assert calls.by_operation("kms") == {"Decrypt": 1}
    assert len(calls.calls) == 3


def test_bad_tokens_and_ids_are_validation_errors(api, make_user):
    user_id = make_user("badinput")
    for token in ("abc", "12345", "1234567", ""):
        reply = api.post(f"/users/{user_id}/2fa/totp/check", {"token": token})
        assert reply.status == 400 and reply["code"] == "InputValidationError", token
    assert api.post("/users/nope/2fa/totp/setup", {})["code"] == "InputValidationError"
    assert api.post(f"/users/{user_id}/2fa/totp/setup", {"fresh": "maybe"}).status == 400
    assert api.post(f"/users/{user_id}/2fa/totp/setup", {"colour": "red"}).status == 400
    assert api.post("/users/" + "a" * 24 + "/2fa/totp/setup", {})["code"] == "UserNotFound"
    assert api.delete("/users/" + "a" * 24 + "/2fa")["code"] == "UserNotFound"


def test_failed_check_budget(api, make_user):
    user_id = make_user("failbudget")
    seed = enabled_seed(api, user_id)
    wrong = f"{(int(pyotp.TOTP(seed).now()) + 500_000) % 1_000_000:06d}"
    with counting() as calls:
        assert api.post(f"/users/{user_id}/2fa/totp/check", {"token": wrong}).status == 403
    # the user, the failure counter, the authlog entry; and the decrypt.
    assert calls.by_operation() == {"GetItem": 1, "UpdateItem": 1, "PutItem": 1}
    assert calls.by_operation("kms") == {"Decrypt": 1}


def test_routes_are_described_in_openapi(api):
    paths = api.get("/openapi.json")["paths"]
    assert {"post"} <= set(paths["/users/{user}/2fa/totp/setup"])
    assert {"delete"} <= set(paths["/users/{user}/2fa"])
    assert {"get", "post"} <= set(paths["/users/{user}/asps"])
    assert {"get", "delete"} <= set(paths["/users/{user}/asps/{asp}"])
    assert {"post", "delete"} <= set(paths["/authenticate"])
