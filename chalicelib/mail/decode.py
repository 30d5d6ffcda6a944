"""Lenient decoding of the text found in real mail.

Mail in the wild mislabels charsets, splits multibyte characters across encoded-words and puts
raw 8-bit bytes into headers. Every helper here returns *some* text instead of raising: a
message that cannot be listed is worse than one showing a few replacement characters.
"""
from __future__ import annotations

import binascii
import codecs
import functools
import re
from email.utils import getaddresses

Address = dict[str, str]

# WHATWG Encoding Standard: legacy labels are decoded with the superset codec that the
# sending clients really used (an "iso-8859-1" mail with curly quotes is windows-1252).
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}
# Codecs that Python knows but that no mail body can legitimately be written in.
_NOT_CHARSETS = {"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"}


@functools.lru_cache(maxsize=256)
def _codecs(charset: str | None) -> tuple[str, str] | None:
    """(codec to try first, codec of the label itself) or None when the label is useless."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    if info.name == "ascii":
        return None  # 8-bit bytes under an ASCII label: the label is a default, not a fact
    return _SUPERSETS.get(info.name, info.name), info.name


def _guess(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; guess UTF-8 then windows-1252 when it is missing,
    plain ASCII (often a lie) or unknown."""
    found = _codecs(charset)
    if found is None:
        return _guess(data)
    superset, label = found
    try:
        return data.decode(superset)
    except UnicodeDecodeError:
        pass
    except Exception:  # a codec that exists but misbehaves (e.g. raises LookupError on use)
        return _guess(data)
    # Bytes the superset leaves undefined mean what the label says; in windows-1252 itself
    # they are C1 controls (WHATWG), which is exactly latin-1.
    return data.decode("latin-1" if label == "cp1252" else label, "replace")


def fix_8bit(value: str) -> str:
    """Turn surrogate-escaped raw header bytes (how `email` keeps 8-bit headers) into text."""
    if value.isascii():
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return _guess(data)


_FOLD = re.compile(r"\r?\n(?=[ \t])")


def unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", "").replace("\n", "").strip()


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")


def _word_bytes(encoding: str, payload: str) -> bytes:
    data = payload.encode("utf-8", "surrogateescape")
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    return b64decode(data)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words anywhere in `value`.

    Adjacent words of the same charset are decoded together because many clients split one
    multibyte character over two words; whitespace between encoded-words is dropped as the
    RFC requires.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = b""
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            out.append(decode_bytes(pending, pending_charset))
        pending, pending_charset = b"", None

    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if gap and not (pending_charset is not None and gap.isspace()):
            flush()
            out.append(gap)
        charset, encoding, payload = match.groups()
        charset = charset.split("*", 1)[0].lower()
        try:
            data = _word_bytes(encoding, payload)
        except (binascii.Error, ValueError):
            flush()
            out.append(match.group(0))
            pos = match.end()
            continue
        if charset != pending_charset:
            flush()
            pending_charset = charset
        pending += data
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out)


def header_text(value: str) -> str:
    """Display form of a raw header value: unfolded, 8-bit repaired, encoded-words decoded."""
    return decode_words(unfold(fix_8bit(value)))


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def b64decode(data: bytes | str) -> bytes:
    """Base64 that survives missing padding and stray characters (a2b_base64 already skips
    line breaks and junk, it only refuses bad padding)."""
    try:
        return binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        pass
    if isinstance(data, str):
        data = data.encode("ascii", "ignore")
    cleaned = _B64_JUNK.sub(b"", data)
    cleaned = cleaned[: len(cleaned) - (len(cleaned) % 4 == 1)]
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except (binascii.Error, ValueError):
        return b""


def _split_addresses(value: str) -> list[tuple[str, str]]:
    try:
        pairs = getaddresses([value])
    except Exception:  # pathological input (e.g. deep nesting) must not fail the whole parse
        return []
    if not any(address for _, address in pairs) and "@" in value:
        # Python builds with the CVE-2023-27043 fix reject some sloppy headers outright.
        try:
            pairs = getaddresses([value], strict=False)  # type: ignore[call-arg]
        except Exception:
            pass
    return pairs


def parse_addresses(value: str | None) -> list[Address]:
    """`[{name, address}]` from a raw address header; groups are flattened, empties dropped."""
    if not value:
        return []
    text = unfold(fix_8bit(value))
    result: list[Address] = []
    for name, address in _split_addresses(text):
        address = address.strip()
        if not address:
            continue
        if "=?" in address and "@" not in address:
            address = decode_words(address).strip()
        result.append({"name": decode_words(name).strip(), "address": address})
    return result
