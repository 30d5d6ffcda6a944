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
from urllib.parse import quote

_INTERVAL = 30
# A QR code holds at most 2331 bytes in byte mode at error correction M (version 40).
# The URI is `otpauth://totp/<issuer>:<label>?secret=<32>&issuer=<issuer>`, label and
# issuer percent-encoded, so these budgets (of encoded bytes) keep the longest URI at
# 64 + 1024 + 2 * 512 = 2112 bytes: every label and issuer the API accepts fits.
QR_CAPACITY_BYTES = 2331
MAX_LABEL_BYTES = 1024
MAX_ISSUER_BYTES = 512
_TOKEN_RE = re.compile(r"^[0-9]{6}$")
_WHITESPACE_RE = re.compile(r"\s+")


def new_seed() -> str:
    """Base32 seed of 20 random bytes (160 bits, the RFC 4226 recommendation)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def otpauth_uri(seed: str, label: str, issuer: str) -> str:
    """Key-URI for authenticator apps; pyotp prefixes the label with `issuer:`."""
    import pyotp

    return str(pyotp.TOTP(seed).provisioning_uri(name=label, issuer_name=issuer))


def encoded_length(text: str) -> int:
    """Bytes `text` takes in an otpauth URI (UTF-8, every reserved byte percent-encoded)."""
    return len(quote(text, safe=""))


def qr_data_url(text: str) -> str:
    """PNG QR code of `text` as a data URL, drawn with PyPNG so Pillow is not needed.

    The text is one byte-mode segment: the library's optimizer would split it into
    mode runs whose headers can cost more than they save, so the capacity would depend on
    the characters. In byte mode anything up to `QR_CAPACITY_BYTES` fits; longer text is a
    ValueError (callers bound their input so that it cannot happen).
    """
    import qrcode
    from qrcode.image.pure import PyPNGImage
    from qrcode.util import MODE_8BIT_BYTE, QRData

    data = text.encode("utf-8")
    if len(data) > QR_CAPACITY_BYTES:
        raise ValueError(f"a QR code holds at most {QR_CAPACITY_BYTES} bytes")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         image_factory=PyPNGImage)
    code.add_data(QRData(data, mode=MODE_8BIT_BYTE, check_data=False))
    code.make(fit=True)
    image = code.make_image()
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
