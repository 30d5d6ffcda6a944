"""Random credentials: application-specific passwords, temporary passwords, API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
import string

_ASP_LENGTH = 16
_ASP_RE = re.compile(r"^[a-z]{16}$")
_WHITESPACE_RE = re.compile(r"\s+")
# Letters and digits without look-alikes (0/O, 1/l/I) so the password survives being read aloud.
_READABLE = "".join(
    ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI"
)


def new_asp_password() -> str:
    """16 lower-case letters, the WildDuck application-password format (often shown in groups)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(_ASP_LENGTH))


def normalize_asp_password(text: str) -> str | None:
    """Canonical form of an application password as typed (spaces, any case), or None."""
    if not isinstance(text, str):
        return None
    candidate = _WHITESPACE_RE.sub("", text).lower()
    return candidate if _ASP_RE.fullmatch(candidate) else None


def new_temporary_password() -> str:
    """24 unambiguous alphanumerics (~139 bits) for an admin-issued password reset."""
    return "".join(secrets.choice(_READABLE) for _ in range(24))


def new_token() -> str:
    """40-hex (160-bit) random API access token."""
    return secrets.token_hex(20)


def token_digest(token: str) -> str:
    """SHA-256 hex of a token; tokens are high-entropy, so a fast unsalted hash is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
