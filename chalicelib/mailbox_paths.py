"""Mailbox paths: the one spelling under which a path is stored, compared and unique.

IMAP clients and the API send the same folder in several spellings (`inbox/x`,
`/INBOX/x/`, composed or decomposed accents); normalizing at the edge means one folder
has one lookup key, so uniqueness and resolution cannot be fooled by spelling.
"""
from __future__ import annotations

import re
import unicodedata

INBOX = "INBOX"
SEPARATOR = "/"
MAX_LEVELS = 128
MAX_SEGMENT = 512
MAX_MAILBOXES = 1500

# IMAP cannot carry control characters (C0, DEL, C1) in a mailbox name, and keeping them
# out lets the store use them nowhere by accident.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalize_path(path: str) -> str:
    """The stored form of a path, or ValueError saying what is wrong with it."""
    path = unicodedata.normalize("NFC", path).strip(SEPARATOR)
    if not path:
        raise ValueError("must not be empty")
    if _CONTROL.search(path):
        raise ValueError("must not contain control characters")
    segments = path.split(SEPARATOR)
    if any(segment == "" for segment in segments):
        raise ValueError("must not contain empty segments")
    if len(segments) > MAX_LEVELS:
        raise ValueError(f"must not have more than {MAX_LEVELS} levels")
    if any(len(segment) > MAX_SEGMENT for segment in segments):
        raise ValueError(f"must not have segments longer than {MAX_SEGMENT} characters")
    # ASCII case only, as IMAP compares INBOX: "ınbox" (dotless i) upper-cases to "INBOX"
    # but is another folder.
    if segments[0].isascii() and segments[0].upper() == INBOX:
        segments[0] = INBOX
    return SEPARATOR.join(segments)


def is_inbox_child(path: str) -> bool:
    return path.startswith(INBOX + SEPARATOR)


def is_within(path: str, ancestor: str) -> bool:
    """True if `path` is `ancestor` or lies below it."""
    return path == ancestor or path.startswith(ancestor + SEPARATOR)


def moved(path: str, old_root: str, new_root: str) -> str:
    """Where `path` (at or below `old_root`) lands when `old_root` becomes `new_root`."""
    return new_root + path[len(old_root):]


def listing_order(path: str, subscribed: bool) -> tuple[int, int, int, list[str], str]:
    """Sort key: INBOX, its children, subscribed folders, then by path.

    Paths compare segment by segment, case-insensitively, so children follow their
    parent (`a`, `a/b`, `a b`) the way folder trees are drawn.
    """
    return (0 if path == INBOX else 1,
            0 if is_inbox_child(path) else 1,
            0 if subscribed else 1,
            [segment.casefold() for segment in path.split(SEPARATOR)],
            path)
