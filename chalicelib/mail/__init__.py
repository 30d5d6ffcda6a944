"""Mail format layer: parse, compose, thread and encrypt RFC 822 messages.

Pure functions over bytes and dataclasses; nothing here knows about HTTP or storage.
"""
from chalicelib.mail.compose import compose_message
from chalicelib.mail.encrypt import encrypt_message, is_pgp_mime
from chalicelib.mail.parse import Attachment, ParsedMessage, attachment_bytes, parse_message
from chalicelib.mail.render import link_inline_images, text_to_html
from chalicelib.mail.threads import normalize_subject, thread_key_candidates

__all__ = [
    "Attachment",
    "ParsedMessage",
    "attachment_bytes",
    "compose_message",
    "encrypt_message",
    "is_pgp_mime",
    "link_inline_images",
    "normalize_subject",
    "parse_message",
    "text_to_html",
    "thread_key_candidates",
]
