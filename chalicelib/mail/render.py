"""What the message view shows as HTML: plain text rendered as HTML, and inline images
pointed at the message's attachments.

Both run when a message is read, not when it is stored, so messages stored before
these rules existed are shown the same way.
"""
from __future__ import annotations

import html
import re
from typing import Iterable, Mapping
from urllib.parse import unquote

# A link in plain text: up to the first whitespace, quote or angle bracket; punctuation
# that usually ends a sentence is not part of it.
_LINK = re.compile(r"\b(?:https?://|mailto:)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"
# A `cid:` URL (RFC 2392) in HTML: up to whitespace, a quote or the end of `url(...)`.
_CID = re.compile(r"\bcid:([^\s\"'<>)]+)", re.IGNORECASE)


def _linked(text: str) -> str:
    """Escape `text`, turning http(s) and mailto links into anchors."""
    out: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if _LINK.fullmatch(url):  # more than the scheme is left
            out.append(html.escape(text[position:match.start()]))
            escaped = html.escape(url)
            out.append(f'<a href="{escaped}">{escaped}</a>')
            position = match.start() + len(url)
    out.append(html.escape(text[position:]))
    return "".join(out)


def text_to_html(text: str) -> str:
    """HTML for a message that has only plain text: escaped, blank lines separate
    paragraphs, single line breaks stay line breaks, links are clickable."""
    lines = [line.rstrip(" \t") for line in text.replace("\r\n", "\n").replace("\r", "\n")
             .split("\n")]
    paragraphs = re.split(r"\n{2,}", "\n".join(lines).strip())
    return "".join(f"<p>{_linked(paragraph).replace(chr(10), '<br/>')}</p>"
                   for paragraph in paragraphs)


def link_inline_images(parts: Iterable[str], cids: Mapping[str, str]) -> list[str]:
    """`cid:<content-id>` references replaced by `attachment:<attachment id>` (the form
    WildDuck clients resolve against the message's attachment list). `cids` maps a
    content id, without angle brackets, to its attachment id; unknown ids stay as they
    are."""
    if not cids:
        return list(parts)

    def replace(match: re.Match[str]) -> str:
        value = match.group(1)
        target = cids.get(value) or cids.get(unquote(value))
        return f"attachment:{target}" if target else match.group(0)

    return [_CID.sub(replace, part) for part in parts]
