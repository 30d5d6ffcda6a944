"""PGP/MIME (RFC 3156) encryption of stored messages for users who upload a public key.

The whole original message, headers included, is encrypted byte for byte; the envelope keeps
a copy of the headers the listing APIs show, so mailbox views work without the private key.
"""
from __future__ import annotations

import base64
import re
import secrets
import warnings

from chalicelib.mail.decode import unfold

# Listing metadata stays readable; everything else exists only inside the ciphertext.
KEPT_HEADERS = (
    "from", "to", "cc", "bcc", "reply-to", "subject", "date",
    "message-id", "in-reply-to", "references",
)

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE = re.compile(rb"[^\n]*\n|[^\n]+")


def _split_header(raw: bytes) -> bytes:
    match = _HEADER_END.search(raw)
    if match is None:
        return raw
    return raw[: match.start() + 1]


def _header_fields(head: bytes) -> list[tuple[str, bytes]]:
    """(lowercase name, raw folded lines) for each header field, byte-exact."""
    fields: list[tuple[str, bytes]] = []
    for line in _LINE.findall(head):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + line)
        elif b":" in line:
            fields.append((line.split(b":", 1)[0].strip().lower().decode("latin-1"), line))
    return fields


def _crc24_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
        table.append(crc & 0xFFFFFF)
    return table


_CRC24 = _crc24_table()


def crc24(data: bytes) -> int:
    """RFC 4880 6.1 armor checksum, table driven: PGPy's bit-by-bit version (run twice per
    `str(message)`) takes about a second per megabyte."""
    crc = 0xB704CE
    table = _CRC24
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[(crc >> 16) ^ byte]
    return crc


def armor(data: bytes) -> str:
    """ASCII armor for an OpenPGP message (what `str(PGPMessage)` produces, only faster)."""
    body = base64.b64encode(data).decode("ascii")
    lines = [body[start : start + 64] for start in range(0, len(body), 64)]
    checksum = base64.b64encode(crc24(data).to_bytes(3, "big")).decode("ascii")
    return "\r\n".join(
        ["-----BEGIN PGP MESSAGE-----", "", *lines, f"={checksum}", "-----END PGP MESSAGE-----"]
    )


def _crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


def is_pgp_mime(raw: bytes) -> bool:
    """True when the top-level Content-Type is multipart/encrypted for OpenPGP."""
    for name, line in _header_fields(_split_header(raw)):
        if name == "content-type":
            value = unfold(line.split(b":", 1)[1].decode("latin-1")).lower()
            return value.startswith("multipart/encrypted") and bool(
                re.search(r'protocol\s*=\s*"?application/pgp-encrypted', value)
            )
    return False


def encrypt_message(raw: bytes, armored_public_key: str) -> bytes:
    """The message wrapped as multipart/encrypted for `armored_public_key`.

    Already PGP/MIME encrypted input is returned unchanged, so re-encrypting on a copy or
    move is harmless. Raises ValueError when the key cannot be read or cannot encrypt.
    """
    if is_pgp_mime(raw):
        return raw
    with warnings.catch_warnings():
        # PGPy 0.6 warns at import and on use about algorithms cryptography will drop.
        warnings.simplefilter("ignore")
        import pgpy

        try:
            key, _ = pgpy.PGPKey.from_blob(armored_public_key)
        except Exception as error:
            raise ValueError(f"invalid public key: {error}") from None
        if not key.is_public:
            key = key.pubkey
        try:
            encrypted = bytes(key.encrypt(pgpy.PGPMessage.new(raw, format="b")))
        except Exception as error:
            raise ValueError(f"public key cannot encrypt: {error}") from None

    boundary = "----pgp-" + secrets.token_hex(12)
    kept = b"".join(
        _crlf(line if line.endswith(b"\n") else line + b"\n")
        for name, line in _header_fields(_split_header(raw))
        if name in KEPT_HEADERS
    )
    envelope = (
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n boundary="{boundary}"\r\n'
        "\r\n"
        "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
        f"--{boundary}\r\n"
        "Content-Type: application/pgp-encrypted\r\n"
        "Content-Description: PGP/MIME version identification\r\n"
        "\r\n"
        "Version: 1\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        'Content-Type: application/octet-stream; name="encrypted.asc"\r\n'
        "Content-Description: OpenPGP encrypted message\r\n"
        'Content-Disposition: inline; filename="encrypted.asc"\r\n'
        "\r\n"
        f"{armor(encrypted)}\r\n"
        "\r\n"
        f"--{boundary}--\r\n"
    )
    return kept + envelope.encode("ascii")
