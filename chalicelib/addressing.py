"""Usernames and email addresses: validation and the normalized forms used for lookups.

Two spellings of one address (case, unicode or punycode domain) normalize to the same
`addrview`, so uniqueness and resolution treat them as one address.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable
from urllib.parse import urlsplit

import idna

_USERNAME = re.compile(r"^[a-z0-9-]+(?:[._=:][a-z0-9-]+)*(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)*)?$")
_LOCAL_FORBIDDEN = re.compile(r"[\s<>()\[\]\\,;:\"@]")
# C0, DEL and C1 controls: an address is one line of text wherever it is written.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalize_username(username: str) -> str:
    return username.strip().lower()


def is_valid_username(username: str) -> bool:
    return 1 <= len(username) <= 128 and bool(_USERNAME.match(username))


def unameview(username: str) -> str:
    """Login form of a username: lower-case, dots removed from the local part."""
    local, at, domain = username.lower().partition("@")
    return local.replace(".", "") + at + domain


def _domain_unicode(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        try:
            return idna.decode(idna.encode(domain, uts46=True))
        except idna.IDNAError:
            raise ValueError("invalid domain") from None


def split_address(address: str) -> tuple[str, str]:
    """(local part, unicode domain) of a valid address, else ValueError."""
    address = unicodedata.normalize("NFC", address.strip())
    if _CONTROL.search(address):
        raise ValueError("invalid address")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or len(address) > 320 or len(local) > 64:
        raise ValueError("invalid address")
    if _LOCAL_FORBIDDEN.search(local) or local.startswith(".") or local.endswith(".") \
            or ".." in local:
        raise ValueError("invalid address")
    unicode_domain = _domain_unicode(domain)
    if "." not in unicode_domain and unicode_domain != "localhost":
        raise ValueError("invalid address")
    return local, unicode_domain


def display_address(address: str) -> str:
    """How an address is stored and shown: as given, with the domain in unicode."""
    local, domain = split_address(address)
    return f"{local}@{domain}"


def normalize_address(address: str) -> str:
    """Uniqueness form: lower-case local part, lower-case unicode domain."""
    local, domain = split_address(address)
    return f"{local.lower()}@{domain}"


def is_valid_address(address: str) -> bool:
    try:
        split_address(address)
    except ValueError:
        return False
    return True


def target_type(target: str) -> str | None:
    """`mail`, `relay` (smtp/smtps URL), `http` (http/https URL), or None if neither."""
    scheme = target.split(":", 1)[0].lower() if ":" in target else ""
    if scheme in ("smtp", "smtps", "http", "https"):
        try:
            parts = urlsplit(target)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            return None
        if not parts.hostname or any(ord(c) < 33 for c in target):  # no space or control
            return None
        return "relay" if scheme.startswith("smtp") else "http"
    return "mail" if is_valid_address(target) else None


# ----------------------------------------------------------------- catch-all addresses
# WildDuck's wildcard addresses, registered with `allowWildcard`: `*@domain` (anyone at
# the domain), `*suffix@domain` and `prefix*@domain` (local parts ending or starting so;
# the fixed part at most 32 characters) and `user@*` (that user at any domain). They
# take mail for addresses nobody has; the longest fixed part wins.
ANY_DOMAIN = "*"
WILDCARD_PART_MAX = 32
INVALID_WILDCARD = 'Invalid wildcard address, use "*@domain" or "user@*"'


def is_user_at_any_domain(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at) and domain == ANY_DOMAIN and re.fullmatch(r"\w+", local) is not None


def address_view(address: str) -> str:
    """`normalize_address`, also for the `user@*` form."""
    if is_user_at_any_domain(address):
        return address.lower()
    return normalize_address(address)


def wildcard_problem(address: str) -> str | None:
    """Why `address` is not an allowed wildcard form (None: it is one, or has no `*`)."""
    if "*" not in address:
        return None
    if address.count("*") != 1:
        return INVALID_WILDCARD
    if is_user_at_any_domain(address):
        return None
    local, _, domain = address.rpartition("@")
    if local.startswith("*"):
        fixed = local[1:]
    elif local.endswith("*"):
        fixed = local[:-1]
    else:
        return INVALID_WILDCARD
    if len(fixed) > WILDCARD_PART_MAX or not is_valid_address(f"{fixed or 'x'}@{domain}"):
        return INVALID_WILDCARD
    return None


def wildcard_match(addrview: str, patterns: Iterable[str]) -> str | None:
    """The registered wildcard (normalized) that takes `addrview` at its own domain:
    the one with the longest fixed part, or None."""
    local, _, domain = addrview.rpartition("@")
    best: str | None = None
    for pattern in patterns:
        wild, _, pattern_domain = pattern.rpartition("@")
        if pattern_domain != domain:
            continue
        if (wild.startswith("*") and local.endswith(wild[1:])) or \
                (wild.endswith("*") and local.startswith(wild[:-1])):
            if best is None or (len(pattern), pattern) > (len(best), best):
                best = pattern
    return best

