"""The address register: who an account wrote to and received mail from, for
autocomplete (`GET /users/{user}/addressregister`).

When a message is stored (upload, submission, delivery: `services/messages.upload`)
and it is neither a draft nor stored in Junk, nor list or automatic mail (it carries
one of `SKIPPED_HEADERS`), the upload marks the item (`register`: which addresses and
when). The marker is all the stream handler needs: a message stored in the \\Sent
mailbox records its To, Cc and Bcc addresses, any other its From address; addresses
that look like no-reply ones are left out. A move or a restore places the message
anew without the marker, so only arrivals are recorded, as WildDuck does.

`on_messages` reads nothing: each marked INSERT image costs one conditional UpdateItem
per distinct address (`store/addressregister.record`), and a repeated, late or
reordered record cannot move an entry back in time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from chalicelib import addressing, logs
from chalicelib.store import addressregister as store
from chalicelib.streams import Change

# A message with any of these headers is list or automatic mail: none of its addresses
# is recorded (WildDuck's rule).
SKIPPED_HEADERS = frozenset({"list-id", "auto-submitted", "x-auto-response-suppress"})
FROM, RECIPIENTS = "from", "rcpt"
_NO_REPLY = re.compile(r"no-?reply", re.IGNORECASE)
# Entries read per search, per key (address and name): an autocomplete prefix matching
# more than this many entries answers the newest among the first ones in key order.
MATCHES_READ = 1000


def marker(special_use: str | None, flags: Iterable[str], headers: Iterable[dict[str, str]],
           at: int) -> dict[str, Any] | None:
    """What an upload into a mailbox of `special_use` puts on the message item for the
    register: which addresses to record and the time, or None to record nothing."""
    if special_use == "\\Junk" or "\\Draft" in flags:
        return None
    if any(h["key"] in SKIPPED_HEADERS and (h.get("value") or "").strip() for h in headers):
        return None
    return {"kind": RECIPIENTS if special_use == "\\Sent" else FROM, "at": at}


@dataclass(frozen=True)
class Entry:
    addrview: str
    address: str
    name: str


def entries(image: dict[str, Any]) -> list[Entry]:
    """The register entries a marked message image makes: distinct by `addrview`, in
    header order (a later duplicate lends its name to a nameless first one)."""
    kind = (image.get("register") or {}).get("kind")
    fields = [[image.get("from")]] if kind == FROM else \
        [image.get(name) or [] for name in ("to", "cc", "bcc")]
    found: dict[str, Entry] = {}
    for field in fields:
        for value in field:
            if not isinstance(value, dict) or _NO_REPLY.search(value.get("address") or ""):
                continue
            try:
                address = addressing.normalize_address(value.get("address") or "")
            except ValueError:
                continue  # nothing anyone could write to
            view = addressing.unameview(address)
            if len(view.encode()) > 1024:  # longer than a sort key may be
                continue
            name = (value.get("name") or "").strip()
            known = found.get(view)
            if known is None or (name and not known.name):
                found[view] = Entry(view, known.address if known else address, name)
    return list(found.values())


def on_messages(changes: list[Change]) -> list[Change]:
    """Stream handler: record the addresses of each newly stored, marked message; the
    changes whose writes failed are returned (retried by the caller)."""
    failed: list[Change] = []
    for change in changes:
        image = change.new or {}
        if change.event != "INSERT" or not image.get("register") or not image.get("user"):
            continue
        at = int(image["register"].get("at") or 0)
        try:
            for entry in entries(image):
                store.record(image["user"], entry.addrview, entry.address, entry.name, at)
        except Exception:  # noqa: BLE001 - this message is retried, the others go on
            logs.exception("address register update failed", user=image["user"],
                           sequence=change.sequence)
            failed.append(change)
    return failed


@dataclass(frozen=True)
class Registered:
    id: str
    name: str | None
    address: str


def search(user_id: str, query: str, limit: int) -> list[Registered]:
    """Entries whose address starts with `query` (as written: stored addresses are in
    lower case) or whose name starts with it in any case, newest first, at most
    `limit`. 1 GetItem (the account) + 2 Queries (the address key, the name index)."""
    from chalicelib.services import users
    users.get(user_id)
    by_address = [item for item in store.by_address(
        user_id, addressing.unameview(query), MATCHES_READ) if item.address.startswith(query)]
    folded = query.casefold()
    by_name = [item for item in store.by_name(user_id, query, MATCHES_READ)
               if (item.name or "").casefold().startswith(folded)]
    merged = {item.id: item for item in by_address + by_name}
    newest = sorted(merged.values(), key=lambda item: (-int(item.updated), item.id))
    return [Registered(item.id, item.name or None, item.address) for item in newest[:limit]]
