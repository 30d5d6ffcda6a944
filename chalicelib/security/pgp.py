"""Validate a user's PGP public key and read the identity it claims.

Only public keys are accepted: a private key pasted by mistake must never be stored.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any


class InvalidPublicKey(ValueError):
    """The text is not a usable ASCII-armored PGP public key."""


@dataclass(frozen=True)
class KeyInfo:
    name: str | None
    address: str | None
    fingerprint: str


def _primary_uid(key: Any) -> Any:
    uids = [uid for uid in key.userids if uid.is_uid]
    for uid in uids:
        if uid.is_primary:
            return uid
    return uids[0] if uids else None


def key_info(armored: str) -> KeyInfo:
    """Parse an armored public key into its fingerprint and primary user id."""
    if not isinstance(armored, str) or not armored.strip():
        raise InvalidPublicKey("PGP key is empty")
    if "-----BEGIN PGP PRIVATE KEY BLOCK-----" in armored:
        raise InvalidPublicKey("Using private keys is not allowed")
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in armored:
        raise InvalidPublicKey("Not an ASCII-armored PGP public key")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

        try:
            key, _ = pgpy.PGPKey.from_blob(armored.strip() + "\n")
        except Exception:
            raise InvalidPublicKey("Could not parse PGP public key") from None
        if not isinstance(key, pgpy.PGPKey):
            raise InvalidPublicKey("Not a PGP public key")
        if not key.is_public:
            raise InvalidPublicKey("Using private keys is not allowed")
        try:
            fingerprint = str(key.fingerprint).replace(" ", "").lower()
            uid = _primary_uid(key)
            name = (uid.name or None) if uid is not None else None
            address = (uid.email or None) if uid is not None else None
        except Exception:
            raise InvalidPublicKey("Could not read PGP public key") from None

    if not fingerprint:
        raise InvalidPublicKey("Could not read PGP public key")
    return KeyInfo(name=name, address=address, fingerprint=fingerprint)
