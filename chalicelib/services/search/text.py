"""What a message is searched by, and how a query string is read.

Text is folded the same way on both sides: Unicode compatibility decomposition, accents
(combining marks) dropped, case folded; words are runs of letters and digits. "Éclair"
and "ECLAIR" are one term. No stemming and no stop words: a word matches only itself.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

# Bounds that keep one message's index entries few and small: the first 256 KB of the
# body are indexed, words over 64 characters (encoded blobs, long URLs) are not terms,
# and a message has at most 2,000 distinct terms (in order of first appearance).
MAX_TEXT_CHARS = 256 * 1024
MAX_TERM_CHARS = 64
MAX_TERMS = 2000

_WORD = re.compile(r"[^\W_]+")
_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """Folded words in order (phrases are checked against this sequence)."""
    return [w for w in _WORD.findall(fold(text)) if len(w) <= MAX_TERM_CHARS]


def _address_text(value: Any) -> str:
    if not value:
        return ""
    return f"{value.get('name') or ''} {value.get('address') or ''}"


def searchable_text(fields: dict[str, Any], body: str) -> str:
    """The text a message is found by: subject, from, to, cc and the body. Each field is
    its own line, so a phrase never runs from one field into the next."""
    people = [fields.get("from")] + list(fields.get("to") or []) + list(fields.get("cc") or [])
    lines = [fields.get("subject") or ""] + [_address_text(p) for p in people]
    return "\n".join(lines + [body[:MAX_TEXT_CHARS]])


def terms_of(text: str) -> list[str]:
    return list(dict.fromkeys(words(text)))[:MAX_TERMS]


def has_phrase(sequence: list[str], phrase: list[str]) -> bool:
    if not phrase:
        return True
    first, size = phrase[0], len(phrase)
    return any(sequence[i:i + size] == phrase
               for i, word in enumerate(sequence) if word == first)


@dataclass
class ParsedQuery:
    """`query` as the search reads it: words that must all appear, phrases that must
    appear as written (their words count as words too), words and phrases that must not."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    excluded_phrases: list[list[str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.words or self.excluded or self.excluded_phrases)


def parse_query(query: str | None) -> ParsedQuery:
    """`alpha "beta gamma" -delta -"epsilon zeta"`. A word that folds into several (an
    address, `e-mail`) is a phrase of them."""
    parsed = ParsedQuery()
    for quoted_not, quoted, plain_not, plain in _QUERY_PART.findall(query or ""):
        negative = bool(quoted_not if quoted or quoted_not else plain_not)
        found = words(quoted if quoted or quoted_not else plain)
        if not found:
            continue
        if negative:
            if len(found) == 1:
                parsed.excluded.append(found[0])
            else:
                parsed.excluded_phrases.append(found)
            continue
        parsed.words.extend(w for w in found if w not in parsed.words)
        if len(found) > 1:
            parsed.phrases.append(found)
    return parsed
