"""Issue 14: account-side correctness fixes, each through the HTTP layer."""
from __future__ import annotations

import warnings
from typing import Any

import pytest

from chalicelib.config import reset_settings


# --------------------------------------------------------------------------- 6: limits


def test_unset_sending_limits_show_the_configured_defaults(api, make_user) -> None:
    user_id = make_user("limits")
    limits = api.get(f"/users/{user_id}")["limits"]
    assert limits["recipients"]["allowed"] == 2000 and limits["forwards"]["allowed"] == 2000
    assert api.put(f"/users/{user_id}", {"recipients": 10, "forwards": 0}).status == 200
    limits = api.get(f"/users/{user_id}")["limits"]
    assert limits["recipients"]["allowed"] == 10 and limits["forwards"]["allowed"] == 2000


def test_sending_limit_defaults_come_from_the_settings(api, make_user, monkeypatch) -> None:
    monkeypatch.setenv("MAX_RECIPIENTS", "150")
    monkeypatch.setenv("MAX_FORWARDS", "75")
    reset_settings()
    user_id = make_user("configured")
    limits = api.get(f"/users/{user_id}")["limits"]
    assert (limits["recipients"]["allowed"], limits["forwards"]["allowed"]) == (150, 75)


# --------------------------------------------------------------------------- 8: authlog filters


def _log_in(api: Any, username: str, password: str, ip: str) -> None:
    api.post("/authenticate", {"username": username, "password": password, "ip": ip})


def test_authlog_filters_by_filter_ip_and_matches_action_in_any_case(api, make_user) -> None:
    user_id = make_user("logged", password="pw")
    _log_in(api, "logged", "pw", "192.0.2.1")
    _log_in(api, "logged", "wrong", "192.0.2.2")
    _log_in(api, "logged", "pw", "192.0.2.2")
    url = f"/users/{user_id}/authlog"

    def listed(query: str) -> list[tuple[str, str | None]]:
        reply = api.get(f"{url}?{query}")
        assert reply.status == 200, reply
        return [(entry["action"], entry.get("ip")) for entry in reply["results"]]

    assert listed("filterIp=192.0.2.2") == [("authentication", "192.0.2.2")] * 2
    assert listed("filterip=192.0.2.1") == [("authentication", "192.0.2.1")]
    # today's clients send their own address as `ip` next to `filterIp`: it does not filter
    assert listed("filterIp=192.0.2.1&ip=198.51.100.7") == [("authentication", "192.0.2.1")]
    assert listed("ip=192.0.2.1") == [("authentication", "192.0.2.1")]  # the contract's filter
    assert listed("action=Authentication&filterIp=192.0.2.1") == [("authentication", "192.0.2.1")]
    assert listed("action=ACCOUNT%20CREATED") == [("account created", None)]
    bad = api.get(f"{url}?filterIp=not-an-ip")
    assert bad.status == 400 and "filterIp" in bad["details"]


# --------------------------------------------------------------------------- 9: encryption


@pytest.fixture(scope="module")
def public_key() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgpy import PGPKey, PGPUID
        from pgpy.constants import (CompressionAlgorithm, HashAlgorithm, KeyFlags,
                                    PubKeyAlgorithm, SymmetricKeyAlgorithm)
        key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_uid(PGPUID.new("Crypto User", email="crypto@example.com"),
                    usage={KeyFlags.EncryptCommunications, KeyFlags.Sign},
                    hashes=[HashAlgorithm.SHA256], ciphers=[SymmetricKeyAlgorithm.AES256],
                    compression=[CompressionAlgorithm.Uncompressed])
    return str(key.pubkey)


def test_encryption_without_a_key_is_refused(api, make_user, public_key: str) -> None:
    reply = api.post("/users", {"username": "nokey", "password": "pw", "encryptMessages": True})
    assert reply.status == 400 and reply["code"] == "InputValidationError"
    assert "pubKey" in reply["details"]["encryptMessages"]

    user_id = make_user("laterkey")
    refused = api.put(f"/users/{user_id}", {"encryptMessages": True})
    assert refused.status == 400 and "encryptMessages" in refused["details"]
    assert api.get(f"/users/{user_id}")["encryptMessages"] is False
    assert api.put(f"/users/{user_id}", {"encryptMessages": True,
                                         "pubKey": public_key}).status == 200
    # removing the key of an account that encrypts would store mail in clear again
    dropped = api.put(f"/users/{user_id}", {"pubKey": ""})
    assert dropped.status == 400 and "pubKey" in dropped["details"]
    assert api.put(f"/users/{user_id}", {"pubKey": "", "encryptMessages": False}).status == 200
    assert api.post("/users", {"username": "withkey", "password": "pw", "encryptMessages": True,
                               "pubKey": public_key}).status == 200


def test_encryption_check_holds_against_a_concurrent_key_removal(api, make_user, public_key,
                                                                 monkeypatch) -> None:
    from chalicelib.services import users
    from chalicelib.store.users import UserItem

    user_id = make_user("racing", pubKey=public_key)
    stale = UserItem.get(user_id)  # read by a request that then loses the race
    assert api.put(f"/users/{user_id}", {"pubKey": ""}).status == 200
    reads = iter([stale])
    real_get = users.get
    monkeypatch.setattr(users, "get", lambda uid: next(reads, None) or real_get(uid))
    reply = api.put(f"/users/{user_id}", {"encryptMessages": True})
    assert reply.status == 400 and "encryptMessages" in reply["details"], reply
    assert UserItem.get(user_id).encryptMessages is False


# --------------------------------------------------------------------------- 4: temporary password


def _token(api: Any, username: str, password: str) -> dict[str, Any]:
    reply = api.post("/authenticate", {"username": username, "password": password,
                                       "token": True})
    assert reply.status == 200, reply
    return reply.json


def _as(token: str) -> dict[str, Any]:
    return {"headers": {"X-Access-Token": token}}


def _authlog(api: Any, user_id: str, action: str) -> list[dict[str, Any]]:
    return api.get(f"/users/{user_id}/authlog?action={action}")["results"]


def test_after_a_reset_the_temporary_password_token_changes_the_password(api, make_user) -> None:
    user_id = make_user("forgetful", password="old-pw")
    temporary = api.post(f"/users/{user_id}/password/reset")["password"]
    login = _token(api, "forgetful", temporary)
    assert login["requirePasswordChange"] is True
    token = login["token"]

    shown = api.get(f"/users/{user_id}", **_as(token))
    assert shown.status == 200 and shown["requirePasswordChange"] is True
    for path in (f"/users/{user_id}/addresses", f"/users/{user_id}/authlog",
                 f"/users/{user_id}/asps", f"/users/{user_id}/mailboxes/{'a' * 24}"):
        reply = api.get(path, **_as(token))
        assert (reply.status, reply["code"]) == (403, "MissingPrivileges"), path
    # the folder list and INBOX, which the web mail loads on every page (test_webmail_calls)
    assert api.get(f"/users/{user_id}/mailboxes", **_as(token)).status == 200
    assert api.get(f"/users/{user_id}/mailboxes/resolve?path=INBOX", **_as(token)).status == 200
    created = api.post(f"/users/{user_id}/asps", {"description": "x"}, **_as(token))
    assert created["code"] == "MissingPrivileges"
    for body in ({"name": "Someone"},
                 {"password": "new-pw", "existingPassword": temporary, "name": "Someone"},
                 {"existingPassword": temporary}):
        reply = api.put(f"/users/{user_id}", body, **_as(token))
        assert (reply.status, reply["code"]) == (403, "MissingPrivileges"), body

    changed = api.put(f"/users/{user_id}", {"password": "new-pw", "existingPassword": temporary,
                                            "ip": "192.0.2.9"}, **_as(token))
    assert changed.status == 200, changed
    fresh = api.post("/authenticate", {"username": "forgetful", "password": "new-pw"})
    assert fresh.status == 200 and fresh["requirePasswordChange"] is False
    assert api.post("/authenticate", {"username": "forgetful",
                                      "password": temporary}).status == 403
    # the password change revoked the token it was made with: log in again
    assert api.get(f"/users/{user_id}", **_as(token))["code"] == "InvalidToken"
    entries = _authlog(api, user_id, "password change")
    assert [(e["result"], e.get("ip")) for e in entries] == [("success", "192.0.2.9")]


def test_a_temporary_password_token_may_revoke_itself(api, make_user) -> None:
    user_id = make_user("leaver", password="pw")
    temporary = api.post(f"/users/{user_id}/password/reset")["password"]
    token = _token(api, "leaver", temporary)["token"]
    assert api.delete("/authenticate", **_as(token)).status == 200
    assert api.get(f"/users/{user_id}", **_as(token))["code"] == "InvalidToken"


def test_existing_password_may_be_the_temporary_one(api, make_user) -> None:
    user_id = make_user("operated", password="old-pw")
    temporary = api.post(f"/users/{user_id}/password/reset")["password"]
    reply = api.put(f"/users/{user_id}", {"existingPassword": temporary, "password": "new-pw"})
    assert reply.status == 200, reply
    assert api.post("/authenticate", {"username": "operated", "password": "new-pw"}).status == 200


def test_a_failed_existing_password_check_is_logged(api, make_user) -> None:
    user_id = make_user("doubted", password="right")
    reply = api.put(f"/users/{user_id}", {"existingPassword": "wrong", "password": "new",
                                          "sess": "s-1", "ip": "192.0.2.3"})
    assert (reply.status, reply["code"]) == (403, "AuthFailed")
    entries = _authlog(api, user_id, "password change")
    assert [(e["result"], e.get("sess"), e.get("ip")) for e in entries] == \
        [("fail", "s-1", "192.0.2.3")]
    assert api.post("/authenticate", {"username": "doubted", "password": "right"}).status == 200


def test_existing_password_is_not_checked_on_an_account_without_one(api, make_user) -> None:
    user_id = make_user("passwordless", password="")
    assert api.get(f"/users/{user_id}")["hasPasswordSet"] is False
    reply = api.put(f"/users/{user_id}", {"existingPassword": "anything", "password": "first"})
    assert reply.status == 200, reply
    assert api.post("/authenticate", {"username": "passwordless",
                                      "password": "first"}).status == 200


# --------------------------------------------------------------------------- 7: profiles


def _profile(reply: Any) -> dict[str, Any]:
    import base64
    import plistlib
    return plistlib.loads(base64.b64decode(reply["mobileconfig"]))


@pytest.mark.parametrize("scopes", [["smtp"], ["imap"], ["pop3"], ["imap", "pop3"]])
def test_a_profile_for_a_password_that_cannot_read_and_send_is_refused(api, make_user,
                                                                       scopes) -> None:
    user_id = make_user("profiled")
    reply = api.post(f"/users/{user_id}/asps", {"description": "Phone", "scopes": scopes,
                                                "generateMobileconfig": True})
    assert (reply.status, reply["code"]) == (400, "InvalidAuthScope"), reply
    assert api.get(f"/users/{user_id}/asps")["results"] == []  # no password was made
    plain = api.post(f"/users/{user_id}/asps", {"description": "No profile", "scopes": scopes})
    assert plain.status == 200 and "mobileconfig" not in plain.json


def test_profiles_read_mail_with_imap_or_else_pop3(api, make_user, monkeypatch) -> None:
    monkeypatch.setenv("POP3_HOST", "pop.mail.test")
    monkeypatch.setenv("POP3_PORT", "1995")
    reset_settings()
    user_id = make_user("reader")
    kinds = {}
    for scopes in (["*"], ["imap", "smtp"], ["pop3", "smtp"]):
        reply = api.post(f"/users/{user_id}/asps", {"description": "x", "scopes": scopes,
                                                    "generateMobileconfig": True})
        assert reply.status == 200, reply
        [mail] = _profile(reply)["PayloadContent"]
        kinds[",".join(scopes)] = (mail["EmailAccountType"], mail["IncomingMailServerHostName"])
    assert kinds == {"*": ("EmailTypeIMAP", "imap.example.com"),
                     "imap,smtp": ("EmailTypeIMAP", "imap.example.com"),
                     "pop3,smtp": ("EmailTypePOP", "pop.mail.test")}


def _self_signed() -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Profile Signer Test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_profiles_are_signed_when_a_certificate_is_configured(api, make_user, monkeypatch,
                                                              tmp_path) -> None:
    import base64
    import plistlib
    import shutil
    import subprocess

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs7

    certificate_pem, key_pem = _self_signed()
    monkeypatch.setenv("MOBILECONFIG_SIGN_CERT", certificate_pem)
    monkeypatch.setenv("MOBILECONFIG_SIGN_KEY", key_pem.replace("\n", "\\n"))  # one-line form
    reset_settings()
    user_id = make_user("signed", address="signed@example.com")
    reply = api.post(f"/users/{user_id}/asps", {"description": "Phone",
                                                "generateMobileconfig": True})
    assert reply.status == 200, reply
    signed = base64.b64decode(reply["mobileconfig"])
    assert not signed.startswith(b"<?xml")
    [embedded] = pkcs7.load_der_pkcs7_certificates(signed)
    assert embedded == x509.load_pem_x509_certificate(certificate_pem.encode())
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to check the signature")
    (tmp_path / "profile.p7").write_bytes(signed)
    checked = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "profile.p7"),
         "-noverify", "-out", str(tmp_path / "profile.plist")], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    profile = plistlib.loads((tmp_path / "profile.plist").read_bytes())
    assert profile["PayloadContent"][0]["IncomingPassword"] == reply["password"]


def test_a_broken_signing_configuration_is_a_clear_error(api, make_user, monkeypatch) -> None:
    certificate_pem, _ = _self_signed()
    _, other_key = _self_signed()
    monkeypatch.setenv("MOBILECONFIG_SIGN_CERT", certificate_pem)
    monkeypatch.setenv("MOBILECONFIG_SIGN_KEY", other_key)
    reset_settings()
    user_id = make_user("misconfigured")
    reply = api.post(f"/users/{user_id}/asps", {"description": "Phone",
                                                "generateMobileconfig": True})
    assert (reply.status, reply["code"]) == (503, "ServiceUnavailable")
    assert "does not belong" in reply["error"]
    assert api.get(f"/users/{user_id}/asps")["results"] == []
