"""Images embedded in HTML as `data:` URLs, turned into inline attachments.

Web mail editors paste images into the HTML as `<img src="data:image/png;base64,...">`.
Mail readers block or drop such URLs, so the reference server stores each one as an
inline attachment next to the HTML and points the image at it with `cid:`; clients
expect uploaded and submitted messages to come back that way.
"""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""(\ssrc\s*=\s*)(?:"(data:[^"]*)"|'(data:[^']*)'|(data:[^\s>]+))""",
                  re.IGNORECASE)
_FILENAME = re.compile(r"""\sdata-filename\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                       re.IGNORECASE)
_DATA_URL = re.compile(r"^data:([^,]*),(.*)$", re.IGNORECASE | re.DOTALL)
_MIME_TYPE = re.compile(r"^\w[\w.+-]*/[\w.+-]+$")
_SKIP_BYTES = 12 * 1024 * 1024  # the reference leaves larger HTML as it is


def _decode(url: str) -> tuple[bytes, str] | None:
    """The bytes and content type of a data URL; None when it is not one."""
    match = _DATA_URL.match(url.strip())
    if not match:
        return None
    meta, payload = match.group(1), match.group(2)
    params = [part.strip() for part in meta.split(";")]
    try:
        data = (base64.b64decode("".join(payload.split()), validate=True)
                if params[-1].lower() == "base64" else unquote_to_bytes(payload))
    except (binascii.Error, ValueError):
        return None
    content_type = next((part.lower() for part in params if _MIME_TYPE.match(part)),
                        "application/octet-stream")
    return data, content_type


def inline_data_images(html: str, domain: str) -> tuple[str, list[dict[str, Any]]]:
    """The HTML with every `data:` image source replaced by `cid:<id>@<domain>`, and the
    attachments (`content` base64, `contentType`, `cid`, `filename` from the image's
    `data-filename`) to add as inline parts. Malformed URLs stay as they are."""
    if "data:" not in html or len(html) > _SKIP_BYTES:
        return html, []
    attachments: list[dict[str, Any]] = []

    def image(tag: re.Match[str]) -> str:
        text = tag.group(0)
        src = _SRC.search(text)
        if not src:
            return text
        decoded = _decode(src.group(2) or src.group(3) or src.group(4))
        if decoded is None:
            return text
        data, content_type = decoded
        cid = f"{uuid.uuid4()}@{domain}"
        attachment: dict[str, Any] = {"content": base64.b64encode(data).decode("ascii"),
                                      "contentType": content_type, "cid": cid}
        text = text[:src.start()] + f'{src.group(1)}"cid:{cid}"' + text[src.end():]
        name = _FILENAME.search(text)
        if name:
            attachment["filename"] = name.group(1) or name.group(2) or name.group(3)
            text = text[:name.start()] + text[name.end():]
        attachments.append(attachment)
        return text

    return _IMG.sub(image, html), attachments
