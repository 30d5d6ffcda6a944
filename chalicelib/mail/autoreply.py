"""The automatic answer to a message: WildDuck's subject and threading headers, marked
`Auto-Submitted: auto-replied` so that other responders (and ours) never answer it."""
from __future__ import annotations

from chalicelib.mail.compose import compose_message


def autoreply_message(*, sender: str, recipient: str, name: str, subject: str, text: str,
                      html: str, original_subject: str, message_id: str | None,
                      references: list[str]) -> bytes:
    """`recipient` (the account's address) answers `sender`. The subject is
    `Auto: <configured subject>`, else `Auto: Re: <original subject>`."""
    headers = [{"key": "Auto-Submitted", "value": "auto-replied"}]
    if message_id:
        chain = [*references, message_id]
        headers += [{"key": "In-Reply-To", "value": message_id},
                    {"key": "References", "value": " ".join(dict.fromkeys(chain))}]
    return compose_message(
        from_={"name": name, "address": recipient}, to=[{"name": "", "address": sender}],
        subject=f"Auto: {subject}" if subject else f"Auto: Re: {original_subject}",
        text=text or None, html=html or None, headers=headers)
