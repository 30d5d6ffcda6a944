"""TOTP second factor: seeds, provisioning URIs/QR codes and token checks.

`verify_totp` returns the matched time-step so the caller can refuse a token whose step
is not newer than the last one accepted (replay guard).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import io
import re
import secrets
import time

_INTERVAL = 30
_TOKEN_RE = re.compile(r"^[0-9]{6}$")
_WHITESPACE_RE = re.compile(r"\s+")


def new_seed() -> str:
    """Base32 seed of 20 random bytes (160 bits, the RFC 4226 recommendation)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def otpauth_uri(seed: str, label: str, issuer: str) -> str:
    """Key-URI for authenticator apps; pyotp prefixes the label with `issuer:`."""
    import pyotp

    return str(pyotp.TOTP(seed).provisioning_uri(name=label, issuer_name=issuer))


def qr_data_url(text: str) -> str:
    """PNG QR code of `text` as a data URL, drawn with PyPNG so Pillow is not needed."""
    import qrcode
    from qrcode.image.pure import PyPNGImage

    image = qrcode.make(text, image_factory=PyPNGImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def verify_totp(
    seed: str, token: str, at: float | None = None, window: int = 1
) -> int | None:
    """Time-step counter the token matches within ±`window` steps, else None."""
    if not isinstance(seed, str) or not isinstance(token, str):
        return None
    token = _WHITESPACE_RE.sub("", token)
    if not _TOKEN_RE.fullmatch(token):
        return None
    import pyotp

    try:
        otp = pyotp.TOTP(seed)
        otp.byte_secret()
    except (binascii.Error, ValueError, TypeError):
        return None
    current = int((time.time() if at is None else at) // _INTERVAL)
    matched: int | None = None
    for counter in range(current - max(window, 0), current + max(window, 0) + 1):
        if counter < 0:
            continue
        if hmac.compare_digest(otp.generate_otp(counter), token) and matched is None:
            matched = counter
    return matched
