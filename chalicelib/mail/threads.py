"""What a storage layer needs to group messages into threads, WildDuck style: a message joins
an existing thread when it references one of its message-ids and has the same normalized
subject (the subject check keeps a reused "reply to anything" thread from swallowing
unrelated mail)."""
from __future__ import annotations

import re

from chalicelib.mail.parse import ParsedMessage

# Reply and forward markers of common clients and locales: Re, Fwd, Fw, AW/WG (German),
# SV/VS (Nordic), Antw (Dutch), Tr/RV/Enc/Res (Romance), Odp (Polish), YNT (Turkish), ...
# Single letters ("R:", "I:") are left alone: they start too many real subjects.
_MARKER = (
    r"(?:re|fwd?|aw|sv|vs|wg|antw|tr|rv|enc|res|odp|ynt|vl|vb|atb|rif"
    r"|απ|σχετ|πρθ|回复|回覆|转发|轉寄|答复|返信|転送)"
)
_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)*" + _MARKER + r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_LIST_TAGS = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+")
_FWD_SUFFIX = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)


def normalize_subject(subject: str) -> str:
    """Subject without reply/forward prefixes and mailing-list tags, whitespace collapsed.

    Case is preserved; compare case-insensitively if that is wanted.
    """
    value = " ".join((subject or "").split())
    while True:
        stripped = _FWD_SUFFIX.sub("", _PREFIX.sub("", value, count=1))
        if stripped == value:
            break
        value = stripped
    return _LIST_TAGS.sub("", value).strip()


def thread_key_candidates(parsed: ParsedMessage) -> list[str]:
    """Message-ids under which an existing thread may already be stored, most specific first.

    In-Reply-To, then References from newest to oldest, then the message's own id: a message
    that arrives before its parent (or a second copy of the same message) still lands in the
    thread later messages create.
    """
    candidates: dict[str, None] = {}
    if parsed.in_reply_to:
        candidates[parsed.in_reply_to] = None
    for reference in reversed(parsed.references):
        candidates.setdefault(reference, None)
    if parsed.message_id:
        candidates.setdefault(parsed.message_id, None)
    return list(candidates)
