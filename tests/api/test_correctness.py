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
