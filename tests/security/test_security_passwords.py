from __future__ import annotations

import base64
import hashlib
from typing import Iterator

import bcrypt
import pytest

from chalicelib.security.passwords import (
    hash_password,
    is_supported_hash,
    needs_rehash,
    verify_password,
)


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """Overrides the suite-wide moto set-up: this layer never touches AWS."""
    yield


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _pbkdf2_phc(password: str, digest: str = "sha512", iterations: int = 25000) -> str:
    salt = b"0123456789abcdef"
    derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations, dklen=64)
    return f"$pbkdf2-{digest}$i={iterations}${_b64(salt)}${_b64(derived)}"


def _bcrypt(password: bytes, prefix: bytes) -> str:
    return bcrypt.hashpw(password, bcrypt.gensalt(rounds=4, prefix=prefix)).decode()


def test_argon2id_round_trip() -> None:
    encoded = hash_password("correct horse", profile="fast")
    assert encoded.startswith("$argon2id$")
    assert verify_password("correct horse", encoded)
    assert not verify_password("wrong horse", encoded)
    assert is_supported_hash(encoded)


def test_hashes_are_salted() -> None:
    assert hash_password("same", profile="fast") != hash_password("same", profile="fast")


def test_unicode_and_empty_passwords() -> None:
    encoded = hash_password("pässwörd ✓", profile="fast")
    assert verify_password("pässwörd ✓", encoded)
    assert not verify_password("passwort", encoded)
    empty = hash_password("", profile="fast")
    assert verify_password("", empty)
    assert not verify_password(" ", empty)


def test_unknown_profile_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        hash_password("x", profile="nope")
    with pytest.raises(ValueError):
        needs_rehash("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", profile="nope")


def test_strong_profile_parameters() -> None:
    encoded = hash_password("pw")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("pw", encoded)
    assert not needs_rehash(encoded)
    assert needs_rehash(encoded, profile="fast")


def test_argon2i_is_verified_but_rehashed() -> None:
    from argon2 import PasswordHasher, Type

    encoded = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.I).hash("pw")
    assert encoded.startswith("$argon2i$")
    assert is_supported_hash(encoded)
    assert verify_password("pw", encoded)
    assert not verify_password("px", encoded)
    assert needs_rehash(encoded, profile="fast")


@pytest.mark.parametrize("prefix", [b"2a", b"2b"])
def test_bcrypt(prefix: bytes) -> None:
    encoded = _bcrypt(b"legacy secret", prefix)
    assert encoded.startswith(f"${prefix.decode()}$")
    assert is_supported_hash(encoded)
    assert verify_password("legacy secret", encoded)
    assert not verify_password("legacy secreT", encoded)
    assert needs_rehash(encoded)


def test_bcrypt_2y() -> None:
    encoded = "$2y$" + _bcrypt(b"php style", b"2b")[4:]
    assert is_supported_hash(encoded)
    assert verify_password("php style", encoded)
    assert not verify_password("php-style", encoded)


def test_bcrypt_long_password_is_truncated_not_rejected() -> None:
    long_password = "x" * 100
    encoded = _bcrypt(long_password.encode()[:72], b"2b")
    assert verify_password(long_password, encoded)
    assert verify_password("x" * 72 + "different tail", encoded)
    assert not verify_password("x" * 71, encoded)


def test_bcrypt_cost_above_limit_is_rejected() -> None:
    encoded = _bcrypt(b"pw", b"2b").replace("$04$", "$25$", 1)
    assert not is_supported_hash(encoded)
    assert not verify_password("pw", encoded)


@pytest.mark.parametrize("digest", ["sha512", "sha256", "sha1"])
def test_pbkdf2_phc(digest: str) -> None:
    encoded = _pbkdf2_phc("wildduck pw", digest=digest, iterations=1000)
    assert is_supported_hash(encoded)
    assert verify_password("wildduck pw", encoded)
    assert not verify_password("wildduck PW", encoded)
    assert needs_rehash(encoded)


def test_pbkdf2_sha512_wildduck_defaults() -> None:
    encoded = _pbkdf2_phc("hunter2")
    assert encoded.startswith("$pbkdf2-sha512$i=25000$")
    assert verify_password("hunter2", encoded)
    assert not verify_password("hunter3", encoded)


def test_pbkdf2_derived_length_follows_hash() -> None:
    salt = b"saltsaltsaltsalt"
    derived = hashlib.pbkdf2_hmac("sha256", b"short", salt, 10, dklen=20)
    encoded = f"$pbkdf2-sha256$i=10${_b64(salt)}${_b64(derived)}"
    assert verify_password("short", encoded)


def test_needs_rehash_current_argon2id_profile() -> None:
    fast = hash_password("pw", profile="fast")
    assert not needs_rehash(fast, profile="fast")
    assert needs_rehash(fast)
    assert needs_rehash("")
    assert needs_rehash("$argon2id$garbage")


MALFORMED = [
    "",
    "plaintext",
    "$argon2id$",
    "$argon2id$v=19$m=1024,t=1,p=1$$",
    "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$!!!",
    "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    "$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    "$2b$04$short",
    "$2x$04$" + "a" * 53,
    "$2b$99$" + "a" * 53,
    "$pbkdf2-sha512$i=25000$",
    "$pbkdf2-sha512$i=0$c2FsdA$aGFzaA",
    "$pbkdf2-sha512$i=25000$c2FsdA$not*base64",
    "$pbkdf2-sha512$i=25000$c$aGFzaA",
    "$pbkdf2-md5$i=25000$c2FsdA$aGFzaA",
    "$pbkdf2-sha512$25000$c2FsdA$aGFzaA",
    "$1$saltsalt$hash",
    "$pbkdf2-sha512$i=1000$c2FsdA$aGFzaA\n",
    "$2b$04$" + "a" * 53 + "\n",
]


@pytest.mark.parametrize("encoded", MALFORMED)
def test_malformed_hashes_are_rejected_quietly(encoded: str) -> None:
    assert verify_password("pw", encoded) is False
    assert is_supported_hash(encoded) is False
    assert needs_rehash(encoded) is True


def test_non_string_inputs_do_not_raise() -> None:
    assert verify_password(None, "$2b$04$x") is False  # type: ignore[arg-type]
    assert verify_password("pw", None) is False  # type: ignore[arg-type]
    assert is_supported_hash(None) is False  # type: ignore[arg-type]
