"""Password hashing: argon2id for everything new, read-only support for imported hashes.

WildDuck stores bcrypt (`$2a$`/`$2b$`/`$2y$`) and `@phc/pbkdf2` hashes; accounts migrated
from it keep working and are upgraded to argon2id by the caller when `needs_rehash` says so.
Verification never raises: a hash we cannot read simply does not match.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any

# Per-profile argon2id parameters: (time_cost, memory_cost KiB, parallelism, hash_len, salt_len).
# "strong" is OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): it fits a small
# Lambda's memory and single vCPU; "fast" exists only so the test suite does not spend
# seconds hashing.
_PROFILES: dict[str, tuple[int, int, int, int, int]] = {
    "strong": (2, 19456, 1, 32, 16),
    "fast": (1, 1024, 1, 32, 16),
}

# Upper bounds on imported hash costs, so a hostile `hashedPassword` cannot make a login
# exhaust Lambda memory or time.
_MAX_ARGON2_MEMORY_KIB = 1024 * 1024
_MAX_ARGON2_TIME = 64
_MAX_ARGON2_PARALLELISM = 64
_MAX_PBKDF2_ITERATIONS = 10_000_000
_MAX_BCRYPT_COST = 16
_BCRYPT_MAX_BYTES = 72

_ARGON2_RE = re.compile(
    r"^\$argon2(?P<variant>id|i)\$(?:v=(?P<v>\d+)\$)?"
    r"m=(?P<m>\d{1,10}),t=(?P<t>\d{1,10}),p=(?P<p>\d{1,3})"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)$"
)
_BCRYPT_RE = re.compile(r"^\$2[aby]\$(?P<cost>\d\d)\$[./A-Za-z0-9]{53}$")
_PBKDF2_RE = re.compile(
    r"^\$pbkdf2-(?P<digest>sha1|sha256|sha512)\$i=(?P<i>\d{1,9})"
    r"\$(?P<salt>[A-Za-z0-9+/]+={0,2})\$(?P<hash>[A-Za-z0-9+/]+={0,2})$"
)


def _hasher(profile: str) -> Any:
    from argon2 import PasswordHasher, Type

    try:
        time_cost, memory_cost, parallelism, hash_len, salt_len = _PROFILES[profile]
    except KeyError:
        raise ValueError(f"Unknown password hashing profile: {profile!r}") from None
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        hash_len=hash_len,
        salt_len=salt_len,
        type=Type.ID,
    )


def _b64decode(text: str) -> bytes:
    """PHC B64: standard alphabet, padding optional."""
    text = text.rstrip("=")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _argon2_ok(match: re.Match[str]) -> bool:
    return (
        0 < int(match["m"]) <= _MAX_ARGON2_MEMORY_KIB
        and 0 < int(match["t"]) <= _MAX_ARGON2_TIME
        and 0 < int(match["p"]) <= _MAX_ARGON2_PARALLELISM
    )


def _pbkdf2_parts(encoded: str) -> tuple[str, int, bytes, bytes] | None:
    match = _PBKDF2_RE.fullmatch(encoded)
    if not match:
        return None
    iterations = int(match["i"])
    if not 0 < iterations <= _MAX_PBKDF2_ITERATIONS:
        return None
    try:
        salt, derived = _b64decode(match["salt"]), _b64decode(match["hash"])
    except (binascii.Error, ValueError):
        return None
    if not salt or not derived:
        return None
    return match["digest"], iterations, salt, derived


def hash_password(password: str, profile: str = "strong") -> str:
    """Hash a password as an argon2id PHC string with the given cost profile."""
    return str(_hasher(profile).hash(password))


def verify_password(password: str, encoded: str) -> bool:
    """Check a password against any supported hash; False (never an exception) otherwise."""
    if not isinstance(password, str) or not isinstance(encoded, str):
        return False
    secret = password.encode("utf-8")
    try:
        if match := _ARGON2_RE.fullmatch(encoded):
            if not _argon2_ok(match):
                return False
            from argon2.exceptions import InvalidHashError, VerificationError

            try:
                return bool(_hasher("fast").verify(encoded, secret))
            except (VerificationError, InvalidHashError):
                return False
        if match := _BCRYPT_RE.fullmatch(encoded):
            if not 4 <= int(match["cost"]) <= _MAX_BCRYPT_COST:
                return False
            import bcrypt

            return bool(bcrypt.checkpw(secret[:_BCRYPT_MAX_BYTES], encoded.encode("ascii")))
        if parts := _pbkdf2_parts(encoded):
            digest, iterations, salt, expected = parts
            actual = hashlib.pbkdf2_hmac(digest, secret, salt, iterations, dklen=len(expected))
            return hmac.compare_digest(actual, expected)
    except (ValueError, TypeError, UnicodeError):
        return False
    return False


def needs_rehash(encoded: str, profile: str = "strong") -> bool:
    """True unless the hash is argon2id with exactly the profile's current parameters."""
    hasher = _hasher(profile)
    if not isinstance(encoded, str) or not _ARGON2_RE.fullmatch(encoded):
        return True
    try:
        return bool(hasher.check_needs_rehash(encoded))
    except Exception:
        return True


def is_supported_hash(encoded: str) -> bool:
    """Whether `verify_password` can check this hash (validates `hashedPassword` imports)."""
    if not isinstance(encoded, str):
        return False
    if match := _ARGON2_RE.fullmatch(encoded):
        if not _argon2_ok(match):
            return False
        try:
            return bool(_b64decode(match["salt"])) and bool(_b64decode(match["hash"]))
        except (binascii.Error, ValueError):
            return False
    if match := _BCRYPT_RE.fullmatch(encoded):
        return 4 <= int(match["cost"]) <= _MAX_BCRYPT_COST
    return _pbkdf2_parts(encoded) is not None
