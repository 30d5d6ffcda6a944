"""Mail format layer: parse, compose, thread and encrypt RFC 822 messages.

Pure functions over bytes and dataclasses; nothing here knows about HTTP or storage.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.mail.autoreply import autoreply_message
    from chalicelib.mail.compose import compose_message
    from chalicelib.mail.encrypt import encrypt_message, is_pgp_mime
    from chalicelib.mail.headers import with_header, without_headers
    from chalicelib.mail.parse import (Attachment, ParsedMessage, attachment_bytes, html_to_text,
                                       parse_message)
    from chalicelib.mail.render import link_inline_images, text_to_html
    from chalicelib.mail.threads import normalize_subject, thread_key_candidates

# Name -> submodule. Loaded on first use: importing the package (as every route does
# through the services) costs nothing until a message is parsed, composed or rendered.
_LAZY = {"autoreply_message": "autoreply", "compose_message": "compose",
         "encrypt_message": "encrypt", "is_pgp_mime": "encrypt", "with_header": "headers",
         "without_headers": "headers", "Attachment": "parse", "ParsedMessage": "parse",
         "attachment_bytes": "parse", "html_to_text": "parse", "parse_message": "parse",
         "link_inline_images": "render",
         "text_to_html": "render",
         "normalize_subject": "threads", "thread_key_candidates": "threads"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Attachment",
    "autoreply_message",
    "ParsedMessage",
    "attachment_bytes",
    "compose_message",
    "encrypt_message",
    "html_to_text",
    "is_pgp_mime",
    "link_inline_images",
    "normalize_subject",
    "parse_message",
    "text_to_html",
    "thread_key_candidates",
    "with_header",
    "without_headers",
]
