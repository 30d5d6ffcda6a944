"""Build RFC 5322 messages from the structured fields of the submit and upload APIs.

The MIME layout is the one nodemailer (and so WildDuck) produces: text and HTML as
multipart/alternative, images referenced by `cid:` next to the HTML in multipart/related,
everything else in multipart/mixed. Output uses CRLF and is 7-bit clean except for an
attached message or an address whose local part is not ASCII.
"""
from __future__ import annotations

import base64
import mimetypes
import re
import uuid
from datetime import datetime, timezone
from email import policy, quoprimime
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import Address as HeaderAddress
from email.message import MIMEPart
from email.utils import format_datetime
from io import BytesIO
from typing import Any, Iterable, Mapping, Sequence

from chalicelib.mail.data_images import inline_data_images
from chalicelib.mail.decode import Address, b64decode

# Address headers are written pre-folded (`_address_header`) and stored raw; with
# refold_source "none" the generator keeps them as written. Every other header is a header
# object, which the policy folds as usual.
_POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")
_UTF8_POLICY = policy.SMTPUTF8.clone(cte_type="7bit", refold_source="none")
_MAX_LINE = 78
# RFC 5322 specials (and the space-free forms of the quoted-string delimiters): a display
# name holding one of these has to be quoted.
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')

_ADDRESS_FIELDS = ("From", "To", "Cc", "Bcc", "Reply-To")
# Headers the MIME structure owns; custom values for them would corrupt the message.
_STRUCTURAL = {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _header_address(value: Mapping[str, Any]) -> HeaderAddress:
    address = str(value.get("address") or "").strip()
    name = " ".join(str(value.get("name") or "").split())
    local, at, domain = address.rpartition("@")
    if not at:
        raise ValueError(f"not an email address: {address!r}")
    return HeaderAddress(display_name=name, username=local, domain=_ascii_domain(domain))


def _display_name(name: str, utf8: bool) -> str:
    """A display name as header text: as is, quoted, or as RFC 2047 encoded words.

    Non-ASCII names are encoded (unless the message is SMTPUTF8 anyway), and so is an
    ASCII name that looks like an encoded word, so that a reader decodes exactly `name`.
    """
    printable = all(" " <= char <= "~" or (utf8 and char > "\x9f") for char in name)
    if printable and "=?" not in name:
        if _SPECIALS.search(name):
            return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return name
    return Header(name, "utf-8").encode(maxlinelen=76).replace("\n", "")


def _address_header(name: str, addresses: Sequence[HeaderAddress], utf8: bool) -> str:
    """The value of an address header, folded at spaces between whole tokens.

    The stdlib folder can put the comma between two addresses inside an encoded word
    (`=?utf-8?q?=2C?=`) when a display name needs encoding, which merges the addresses
    for every reader; building the list ourselves keeps each separator a plain comma.
    """
    tokens: list[str] = []
    for index, address in enumerate(addresses):
        words = _display_name(address.display_name, utf8).split(" ") \
            if address.display_name else []
        words = [word for word in words if word]
        words.append(f"<{address.addr_spec}>" if words else address.addr_spec)
        if index < len(addresses) - 1:
            words[-1] += ","
        tokens += words
    lines = [""]
    width = len(name) + 2  # "To: "
    for token in tokens:
        if lines[-1].strip() and width + 1 + len(token) > _MAX_LINE:
            lines.append(" ")  # a continuation line starts with white space
            width = 1
        elif lines[-1].strip():
            lines[-1] += " "
            width += 1
        lines[-1] += token
        width += len(token)
    return "\n".join(lines)


def _addresses(values: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> list[HeaderAddress]:
    if not values:
        return []
    if isinstance(values, Mapping):
        values = [values]
    return [_header_address(value) for value in values]


def _clean_value(value: Any) -> str:
    """One header line: any line break in user input would start a new (injected) header."""
    return " ".join(str(value).splitlines()).strip()


def _text_part(content: str, subtype: str) -> MIMEPart:
    """A UTF-8 text part whose body decodes back to exactly `content` (`set_content` would
    append a newline). Mostly-ASCII text goes quoted-printable, other scripts base64."""
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    data = content.encode("utf-8")
    if content.isascii() and all(len(line) <= _POLICY.max_line_length for line in content.split("\n")):
        encoding, payload = "7bit", content
    elif (len(data) - len(data.decode("ascii", "ignore"))) * 3 > len(data):
        encoding, payload = "base64", base64.encodebytes(data).decode("ascii")
    else:
        encoding, payload = "quoted-printable", quoprimime.body_encode(data.decode("latin-1"), 76)
    part = MIMEPart(policy=_POLICY)
    part["Content-Type"] = f"text/{subtype}"
    part.set_param("charset", "utf-8")
    part["Content-Transfer-Encoding"] = encoding
    part.set_payload(payload)
    return part


def _attachment_part(attachment: Mapping[str, Any], inline_default: bool) -> MIMEPart:
    filename = attachment.get("filename") or None
    content_type = (
        attachment.get("contentType")
        or (mimetypes.guess_type(filename)[0] if filename else None)
        or "application/octet-stream"
    ).lower()
    maintype, _, subtype = content_type.partition("/")
    if not subtype or maintype == "multipart":
        maintype, subtype = "application", "octet-stream"
    content = attachment.get("content") or ""
    data = b64decode(content) if isinstance(content, str) else bytes(content)
    cid = attachment.get("cid")
    disposition = attachment.get("contentDisposition") or ("inline" if cid and inline_default else "attachment")
    part = MIMEPart(policy=_POLICY)
    if maintype == "message":
        _set_message_content(part, data, f"{maintype}/{subtype}")
    else:
        part.set_content(data, maintype, subtype, cte="base64")
    part.add_header("Content-Disposition", disposition, **({"filename": filename} if filename else {}))
    if cid:
        part["Content-ID"] = f"<{str(cid).strip().strip('<>')}>"
    return part


def _set_message_content(part: MIMEPart, data: bytes, content_type: str) -> None:
    """Attached messages may not be base64 encoded (RFC 2046 5.2.1): keep them as they are."""
    data = re.sub(rb"\r?\n", b"\r\n", data)
    part["Content-Type"] = content_type
    part["Content-Transfer-Encoding"] = "7bit" if data.isascii() else "8bit"
    part.set_payload(data.decode("ascii", "surrogateescape"))


def _body(text: str | None, html: str | None, attachments: Sequence[Mapping[str, Any]]) -> MIMEPart:
    related = [a for a in attachments if a.get("cid")] if html else []
    mixed = [a for a in attachments if not (html and a.get("cid"))]

    html_part: MIMEPart | None = None
    if html:
        html_part = _text_part(html, "html")
        if related:
            container = MIMEPart(policy=_POLICY)
            container.make_related()
            container.attach(html_part)
            for attachment in related:
                container.attach(_attachment_part(attachment, inline_default=True))
            html_part = container

    if text is not None and html_part is not None:
        body = MIMEPart(policy=_POLICY)
        body.make_alternative()
        body.attach(_text_part(text, "plain"))
        body.attach(html_part)
    elif html_part is not None:
        body = html_part
    else:
        body = _text_part(text or "", "plain")

    if not mixed:
        return body
    root = MIMEPart(policy=_POLICY)
    root.make_mixed()
    root.attach(body)
    for attachment in mixed:
        root.attach(_attachment_part(attachment, inline_default=False))
    return root


def compose_message(
    *,
    from_: Address | None = None,
    to: Sequence[Address] | None = None,
    cc: Sequence[Address] | None = None,
    bcc: Sequence[Address] | None = None,
    reply_to: Sequence[Address] | Address | None = None,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    attachments: Sequence[Mapping[str, Any]] | None = None,
    headers: Sequence[Mapping[str, Any]] | None = None,
    date: datetime | None = None,
    message_id_domain: str | None = None,
) -> bytes:
    """Raw message bytes ready to store or send.

    Bcc is written too: the stored copy of an uploaded or sent message keeps it, as WildDuck
    does, and it is stripped by whatever hands the message to SMTP. `headers` are extra
    `{key, value}` pairs; one named like a generated header (Message-ID, Date, In-Reply-To...)
    replaces it, MIME structure headers are ignored. Images embedded in `html` as `data:`
    URLs become inline attachments referenced by `cid:`. Raises ValueError for an address
    without "@" or an invalid header name.
    """
    fields: dict[str, list[HeaderAddress]] = {
        "From": _addresses(from_),
        "To": _addresses(to),
        "Cc": _addresses(cc),
        "Bcc": _addresses(bcc),
        "Reply-To": _addresses(reply_to),
    }
    domain = message_id_domain or (fields["From"][0].domain if fields["From"] else "") or "localhost"
    when = date or datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)

    generated: list[tuple[str, Any]] = [(name, fields[name]) for name in _ADDRESS_FIELDS if fields[name]]
    generated += [
        ("Subject", _clean_value(subject or "")),
        ("Date", format_datetime(when)),
        ("Message-ID", f"<{uuid.uuid4()}@{_ascii_domain(domain)}>"),
    ]
    custom: list[tuple[str, str]] = []
    for header in headers or []:
        key = str(header.get("key") or "").strip()
        if not _HEADER_NAME.match(key):
            raise ValueError(f"invalid header name: {key!r}")
        if key.lower() not in _STRUCTURAL:
            custom.append((key, _clean_value(header.get("value") or "")))
    overridden = {key.lower() for key, _ in custom}

    parts = list(attachments or [])
    if html:
        html, images = inline_data_images(html, _ascii_domain(domain))
        parts += images
    message = _body(text, html, parts)
    utf8 = any(not a.addr_spec.isascii() for values in fields.values() for a in values)
    if utf8:
        message.policy = _UTF8_POLICY
    content_headers = list(message.items())
    for name in list(message.keys()):
        del message[name]
    for name, value in generated:
        if name.lower() in overridden:
            continue
        if name in _ADDRESS_FIELDS:
            message.set_raw(name, _address_header(name, value, utf8))
        elif name == "Subject" and "=?" in value:
            # Written as is, text shaped like an encoded word would be decoded by readers.
            message.set_raw(name, Header(value, "utf-8", header_name=name).encode())
        else:
            message[name] = value
    for name, value in custom:
        message[name] = value
    message["MIME-Version"] = "1.0"
    for name, value in content_headers:
        message[name] = value

    buffer = BytesIO()
    BytesGenerator(buffer, policy=message.policy).flatten(message)
    return buffer.getvalue()
