"""Turn raw RFC 822 bytes into the metadata, bodies and attachment list the API serves.

Parsing uses the `compat32` policy: it never raises on broken headers and keeps raw values,
which are then decoded here with the lenient helpers of `decode`. Part paths follow IMAP
BODY[] numbering so a stored message's attachment can be found again by path or by id.
"""
from __future__ import annotations

import binascii
import hashlib
import html as html_lib
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, parsedate_to_datetime
from io import BytesIO
from typing import Any, Iterator, Literal

from chalicelib.mail.decode import (
    Address,
    b64decode,
    decode_bytes,
    fix_8bit,
    header_text,
    parse_addresses,
    unfold,
)

INTRO_LENGTH = 128
_BODY_TYPES = ("text/plain", "text/html")


@dataclass(frozen=True)
class Attachment:
    """An attachment as WildDuck lists it. `id` (ATT00001... in MIME order) and `part` both
    find it again in the stored raw message; `size` is the decoded byte count."""

    id: str
    filename: str | None
    content_type: str
    disposition: str | None
    size: int
    content_id: str | None
    """Without angle brackets, as written after `cid:` in HTML."""
    transfer_encoding: str
    part: str
    """IMAP part path ("2", "1.2")."""
    sha256: str = ""
    """Hex SHA-256 of the decoded content (WildDuck's `hash`)."""


@dataclass(frozen=True)
class ParsedMessage:
    """What the APIs store and serve about a message. Addresses are `{name, address}` dicts,
    message-ids keep their angle brackets, `date` is aware UTC (None when missing or
    unreadable), `headers` are the top-level `{key, value}` pairs (lowercase key, decoded
    value) in message order, `list_id` is the identifier inside List-Id's angle brackets,
    `mailing_list` is `{id, unsubscribe}` as WildDuck reads List-Id and List-Unsubscribe
    (each as `{name, address}` pairs; a key is absent without its header, the whole value
    None without both)."""

    from_: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    subject: str
    message_id: str | None
    date: datetime | None
    in_reply_to: str | None
    references: list[str]
    text: str
    html: list[str]
    intro: str
    attachments: list[Attachment]
    content_type: dict[str, Any]
    size: int
    headers: list[dict[str, str]]
    list_id: str | None
    auto_submitted: str | None
    precedence: str | None
    list_unsubscribe: bool
    has_attachments: bool
    mailing_list: dict[str, Any] | None = None


_parser = BytesParser(policy=policy.compat32)


def _parse(raw: bytes) -> tuple[Message, Iterator[_Leaf]]:
    message = _parser.parsebytes(raw)
    linesep = "\r\n" if raw.find(b"\r\n", 0, 65536) != -1 else "\n"
    return message, _leaves(message, linesep)


def _raw_header(part: Message, name: str) -> str | None:
    """First raw value of a header; `Message.get` would mangle 8-bit bytes under compat32."""
    name = name.lower()
    for key, value in part.raw_items():
        if key.strip().lower() == name:
            return str(value)
    return None


def _header(part: Message, name: str) -> str | None:
    value = _raw_header(part, name)
    return None if value is None else header_text(value)


class _Mime:
    """Content-Type and Content-Disposition of one part, read from repaired header text so
    that `Message.get_param` decodes RFC 2231 without meeting surrogate escapes."""

    def __init__(self, part: Message) -> None:
        self._scratch = Message()
        for name in ("content-type", "content-disposition"):
            value = _raw_header(part, name)
            if value is not None:
                self._scratch[name] = unfold(fix_8bit(value))
        self._default = part.get_default_type()
        self._scratch.set_default_type(self._default)

    @property
    def content_type(self) -> str:
        try:
            return self._scratch.get_content_type()
        except Exception:
            return self._default

    def params(self) -> dict[str, str]:
        try:
            pairs = self._scratch.get_params() or []
        except Exception:
            return {}
        result: dict[str, str] = {}
        for key, value in pairs[1:]:
            try:
                result[key.lower()] = collapse_rfc2231_value(value)
            except Exception:
                continue
        return result

    def param(self, name: str) -> str | None:
        return self.params().get(name)

    @property
    def disposition(self) -> str | None:
        try:
            value = self._scratch.get_content_disposition()
        except Exception:
            return None
        return value or None

    @property
    def filename(self) -> str | None:
        try:
            name = self._scratch.get_filename()
        except Exception:
            name = None
        if not name:
            return None
        name = header_text(name)
        name = re.split(r"[\\/]", name)[-1].strip()
        return name or None


Kind = Literal["text", "html", "attachment"]


@dataclass(frozen=True)
class _Leaf:
    part: Message
    path: str
    kind: Kind
    mime: _Mime
    linesep: str


def _raw_payload(part: Message) -> Any:
    """The payload as parsed: surrogate-escaped text for a leaf, a list for a container.

    `Message.get_payload()` re-decodes 8-bit text with the declared charset (and raises on
    some bogus ones), which would lose the original bytes.
    """
    return part._payload  # noqa: SLF001


def _is_container(part: Message, content_type: str) -> bool:
    return content_type.startswith("multipart/") and isinstance(_raw_payload(part), list)


def _leaves(part: Message, linesep: str, path: str = "") -> Iterator[_Leaf]:
    """Body and attachment leaves in MIME order. Encapsulated messages (message/rfc822) are
    leaves too: WildDuck lists a forwarded message as one attachment."""
    mime = _Mime(part)
    content_type = mime.content_type
    if _is_container(part, content_type):
        for index, child in enumerate(_raw_payload(part), 1):
            yield from _leaves(child, linesep, f"{path}.{index}" if path else str(index))
        return
    path = path or "1"
    if content_type.startswith("multipart/"):
        # A multipart without a usable boundary: show its content rather than hide it.
        yield _Leaf(part, path, "text", mime, linesep)
        return
    if content_type in _BODY_TYPES and mime.disposition != "attachment" and not mime.filename:
        yield _Leaf(part, path, "text" if content_type == "text/plain" else "html", mime, linesep)
        return
    yield _Leaf(part, path, "attachment", mime, linesep)


def _transfer_encoding(part: Message) -> str:
    value = _raw_header(part, "content-transfer-encoding")
    return unfold(value).lower() if value else "7bit"


def _payload_bytes(part: Message, linesep: str) -> bytes:
    """Decoded content of a leaf. Base64 and quoted-printable go through binascii directly on
    the parsed payload so a large attachment is decoded once, without extra copies."""
    payload = _raw_payload(part)
    if isinstance(payload, list):
        return _encapsulated_bytes(payload, linesep)
    if not isinstance(payload, str):
        return b""
    encoding = _transfer_encoding(part)
    if encoding == "base64":
        if payload.isascii():
            return b64decode(payload)
        return b64decode(payload.encode("ascii", "ignore"))
    data = _to_bytes(payload)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    if encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
        try:
            decoded = part.get_payload(decode=True)
        except Exception:
            return data
        return decoded if isinstance(decoded, bytes) else data
    return data


def _encapsulated_bytes(messages: list[Message], linesep: str) -> bytes:
    """Bytes of a message/* part, regenerated from its parsed sub-message(s) (a
    message/delivery-status part holds one block per recipient)."""
    blocks: list[bytes] = []
    for inner in messages:
        buffer = BytesIO()
        try:
            BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(
                inner, linesep=linesep
            )
        except Exception:
            continue
        blocks.append(buffer.getvalue())
    return linesep.encode().join(blocks)


def _to_bytes(payload: str) -> bytes:
    try:
        return payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return payload.encode("utf-8", "surrogateescape")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def _part_text(leaf: _Leaf) -> str:
    data = _payload_bytes(leaf.part, leaf.linesep)
    charset = leaf.mime.param("charset")
    if charset is None and leaf.kind == "html":
        match = _META_CHARSET.search(data[:2048])
        charset = match.group(1).decode("ascii") if match else None
    text = decode_bytes(data, charset).replace("\r\n", "\n")
    params = leaf.mime.params()
    if leaf.kind == "text" and params.get("format", "").lower() == "flowed":
        text = unflow(text, delsp=params.get("delsp", "").lower() == "yes")
    return text


def unflow(text: str, delsp: bool = False) -> str:
    """Undo RFC 3676 format=flowed so paragraphs read as written (as WildDuck shows them)."""
    lines: list[str] = []
    pending: tuple[int, str] | None = None

    def render(depth: int, content: str) -> str:
        return ">" * depth + (" " + content if depth and content else content)

    for line in re.split(r"\r?\n", text):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if pending is not None and pending[0] == depth:
            pending = (depth, pending[1] + content)
        else:
            if pending is not None:
                lines.append(render(*pending))
            pending = (depth, content)
        if not soft:
            lines.append(render(*pending))
            pending = None
    if pending is not None:
        lines.append(render(*pending))
    return "\n".join(lines)


_HIDDEN_HTML = re.compile(
    r"<!--.*?-->|<(script|style|head|title)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")


def html_to_text(html: str) -> str:
    """Rough visible text of HTML; good enough for an intro line, not for rendering."""
    return html_lib.unescape(_TAG.sub(" ", _HIDDEN_HTML.sub(" ", html)))


_QUOTED_LINE = re.compile(r"^>.*$", re.MULTILINE)
_RULER_LINE = re.compile(r"^[ \t]*(\S)\1+[ \t]*$", re.MULTILINE)


def make_intro(text: str, html: list[str]) -> str:
    """WildDuck's intro: quoted lines and ruler lines dropped, whitespace collapsed, cut at
    128 characters with an ellipsis. Falls back to the HTML when the text says nothing."""
    intro = _intro_from(text)
    if not intro and html:
        intro = _intro_from(html_to_text(" ".join(part[:100_000] for part in html)))
    if len(intro) > INTRO_LENGTH:
        intro = intro[:INTRO_LENGTH].rstrip() + "…"
    return intro


def _intro_from(text: str) -> str:
    head = text[:2048]
    head = _RULER_LINE.sub("", _QUOTED_LINE.sub("", head))
    return " ".join(head.split())


_MSGID = re.compile(r"<([^<>]*)>")


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = ["".join(inner.split()) for inner in _MSGID.findall(value)]
    if not found:
        found = [token.strip("<>") for token in value.split() if "@" in token]
    seen: dict[str, None] = {}
    for inner in found:
        if inner:
            seen.setdefault(f"<{inner}>", None)
    return list(seen)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # the stdlib raises a different error for each kind of garbage
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _list_id(value: str | None) -> str | None:
    """The list identifier from `"Name" <id>`, or the whole value when it has no brackets."""
    if not value:
        return None
    match = _MSGID.search(value)
    ident = (match.group(1) if match else value).strip()
    return ident or None


_BARE_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


def _split_top_level(value: str) -> list[str]:
    """A header value split at the commas outside quotes and angle brackets (URLs in
    List-Unsubscribe may hold commas inside their brackets)."""
    pieces, current, quoted, depth, escaped = [], [], False, 0, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            depth += 1
        elif char == ">" and not quoted and depth:
            depth -= 1
        elif char == "," and not quoted and not depth:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return pieces


def list_addresses(value: str | None) -> list[Address]:
    """`{name, address}` pairs of a List-Id or List-Unsubscribe value, as WildDuck's
    address parser reads them: the bracketed part is the address, the rest (unquoted,
    RFC 2047 decoded) the name; a bare word is an address only when it looks like one."""
    found: list[Address] = []
    for piece in _split_top_level(unfold(fix_8bit(value or ""))):
        match = re.search(r"<([^<>]*)>", piece)
        rest = (piece[:match.start()] + piece[match.end():]) if match else piece
        name = header_text(rest.strip().strip('"').strip()).strip()
        address = match.group(1).strip() if match else ""
        if not match and _BARE_ADDRESS.match(name):
            name, address = "", name
        if name or address:
            found.append({"name": name, "address": address})
    return found


def _mailing_list(list_id: str | None, unsubscribe: str | None) -> dict[str, Any] | None:
    if not (list_id or "").strip() and not (unsubscribe or "").strip():
        return None
    result: dict[str, Any] = {}
    ids = list_addresses(list_id)
    if ids:
        result["id"] = ids[0]
    if (unsubscribe or "").strip():
        result["unsubscribe"] = list_addresses(unsubscribe)
    return result


def _attachment(leaf: _Leaf, ident: str) -> Attachment:
    mime = leaf.mime
    content_id = _header(leaf.part, "content-id")
    content_id = content_id.strip().strip("<>").strip() if content_id else None
    content = _payload_bytes(leaf.part, leaf.linesep)
    return Attachment(
        id=ident,
        filename=mime.filename,
        content_type=mime.content_type,
        disposition=mime.disposition,
        size=len(content),
        content_id=content_id or None,
        transfer_encoding=_transfer_encoding(leaf.part),
        part=leaf.path,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _numbered(leaves: Iterator[_Leaf]) -> Iterator[tuple[str | None, _Leaf]]:
    """Leaves with the attachment id (ATT00001... in MIME order) or None for body parts."""
    number = 0
    for leaf in leaves:
        if leaf.kind == "attachment":
            number += 1
            yield f"ATT{number:05d}", leaf
        else:
            yield None, leaf


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything the listing, message and thread APIs need, from one pass over the MIME tree.

    Never raises on malformed input: missing or broken headers give empty values.
    """
    message, leaves = _parse(raw)
    raw_headers = [(key.strip().lower(), str(value)) for key, value in message.raw_items()]
    headers = [{"key": key, "value": header_text(value)} for key, value in raw_headers]
    first: dict[str, str] = {}
    raw_first: dict[str, str] = {}
    for (key, value), header in zip(raw_headers, headers):
        raw_first.setdefault(key, value)
        first.setdefault(key, header["value"])

    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    for ident, leaf in _numbered(leaves):
        if ident is not None:
            attachments.append(_attachment(leaf, ident))
        elif leaf.kind == "text":
            texts.append(_part_text(leaf))
        else:
            htmls.append(_part_text(leaf))
    text = "\n".join(texts)

    top = _Mime(message)
    senders = parse_addresses(raw_first.get("from"))
    in_reply_to = _message_ids(first.get("in-reply-to"))
    message_ids = _message_ids(first.get("message-id"))
    return ParsedMessage(
        from_=senders[0] if senders else None,
        to=parse_addresses(raw_first.get("to")),
        cc=parse_addresses(raw_first.get("cc")),
        bcc=parse_addresses(raw_first.get("bcc")),
        reply_to=parse_addresses(raw_first.get("reply-to")),
        subject=first.get("subject", "").strip(),
        message_id=message_ids[0] if message_ids else None,
        date=_date(first.get("date")),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_message_ids(first.get("references")),
        text=text,
        html=htmls,
        intro=make_intro(text, htmls),
        attachments=attachments,
        content_type={"value": top.content_type, "params": top.params()},
        size=len(raw),
        headers=headers,
        list_id=_list_id(first.get("list-id")),
        auto_submitted=(first.get("auto-submitted") or "").strip().lower() or None,
        precedence=(first.get("precedence") or "").strip().lower() or None,
        list_unsubscribe="list-unsubscribe" in first,
        has_attachments=bool(attachments),
        mailing_list=_mailing_list(raw_first.get("list-id"), raw_first.get("list-unsubscribe")),
    )


def attachment_bytes(raw: bytes, attachment_id: str) -> tuple[bytes, str, str]:
    """(decoded bytes, content type, filename) of one attachment listed by `parse_message`.

    Attachments without a name get `<id><extension>` so a download always has a filename.
    Raises KeyError for an id the message does not have.
    """
    _, leaves = _parse(raw)
    for ident, leaf in _numbered(leaves):
        if ident == attachment_id:
            content_type = leaf.mime.content_type
            filename = leaf.mime.filename
            if not filename:
                extension = mimetypes.guess_extension(content_type) or ".bin"
                filename = f"{ident}{extension}"
            return _payload_bytes(leaf.part, leaf.linesep), content_type, filename
    raise KeyError(attachment_id)
