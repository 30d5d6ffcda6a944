"""Edit the header block of a raw message without re-serializing the rest.

A message handed to SES must not carry its Bcc header (SES sends the bytes as given),
while the stored copy keeps it, as WildDuck's does; a draft being sent gets a fresh
Date. Re-generating the whole message through `email` could change its body bytes, so
only the header lines are touched.
"""
from __future__ import annotations

import re

_BLOCK_END = re.compile(rb"\r?\n\r?\n")


def _split(raw: bytes) -> tuple[list[bytes], bytes]:
    """Header fields (each with its folded continuation lines, line end included) and
    what follows them: the blank line and the body."""
    end = _BLOCK_END.search(raw)
    if end:
        separator = end.group(0)
        cut = end.start() + separator.index(b"\n") + 1
        head, rest = raw[:cut], raw[cut:]
    else:
        head, rest = raw, b"\r\n"
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    if fields and not fields[-1].endswith(b"\n"):
        fields[-1] += b"\r\n"
    return fields, rest


def _name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def without_headers(raw: bytes, names: set[str]) -> bytes:
    """`raw` without the header fields named in `names` (lowercase)."""
    fields, rest = _split(raw)
    return b"".join(f for f in fields if _name(f) not in names) + rest


def with_header(raw: bytes, name: str, value: str) -> bytes:
    """`raw` with exactly one `name` field, holding `value` (an ASCII header value)."""
    fields, rest = _split(raw)
    line = f"{name}: {value}\r\n".encode("ascii")
    kept = [f for f in fields if _name(f) != name.lower()]
    return b"".join(kept) + line + rest
