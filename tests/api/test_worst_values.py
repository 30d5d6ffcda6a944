"""The worst values the API accepts, written everywhere, then read back everywhere.

Longest strings, extreme dates and numbers still in range, and Unicode that trips naive
code (astral plane, combining marks, right-to-left text, emoji sequences) go into every
field of users, addresses, mailboxes and messages; every listing, read and download must
then answer 200. A value a schema accepts must never make a later read fail.
"""
from __future__ import annotations

import base64
import re
from urllib.parse import quote

import pytest

from chalicelib import mailbox_paths
from chalicelib.request_limits import MAX_DATE_MS
from tests.support import mailbox_ids

# Characters chosen to break byte/char confusions, normalization and bidi handling.
ASTRAL = "\U0001D54F"          # mathematical double-struck X (4 bytes in UTF-8, 2 UTF-16 units)
COMBINING = "e\u0301\u0327"    # e + acute + cedilla (not one precomposed character)
RTL = "\u05e9\u05dc\u05d5\u05dd\u202e"  # Hebrew then RIGHT-TO-LEFT OVERRIDE
EMOJI = "\U0001F469\u200d\U0001F4BB\U0001F3FD"  # ZWJ sequence with a skin tone
NBSP_BOM = "\u00a0\ufeff\u2028"  # no-break space, BOM, line separator (not C0/C1)
MIX = ASTRAL + COMBINING + RTL + EMOJI + NBSP_BOM


def fill(length: int, pattern: str = MIX) -> str:
    """`length` characters (code points) built from `pattern`."""
    return (pattern * (length // len(pattern) + 1))[:length]


LAST_DATE = "9999-12-31T23:59:59.999Z"
FIRST_DATE = "1970-01-01T00:00:00.000Z"


def ok(reply):
    assert reply.status == 200, reply
    return reply


def read_everything(api, user_id):
    """Every GET the user's data offers, each answering 200."""
    ok(api.get(f"/users/{user_id}"))
    ok(api.get("/users?limit=250"))
    ok(api.get(f"/users?query={quote(fill(20))}"))
    ok(api.get(f"/users/{user_id}/addresses"))
    ok(api.get("/addresses?limit=250"))
    for address in ok(api.get(f"/users/{user_id}/addresses"))["results"]:
        ok(api.get(f"/users/{user_id}/addresses/{address['id']}"))
        ok(api.get(f"/addresses/resolve/{quote(address['address'], safe='')}"))
    for counters in ("false", "true"):
        ok(api.get(f"/users/{user_id}/mailboxes?counters={counters}&showHidden=true"))
    ok(api.get(f"/users/{user_id}/authlog"))
    ok(api.get(f"/users/{user_id}/asps"))
    ok(api.get(f"/users/{user_id}/flagged"))
    ok(api.get(f"/users/{user_id}/archived"))
    boxes = ok(api.get(f"/users/{user_id}/mailboxes?showHidden=true"))["results"]
    seen = 0
    for box in boxes:
        ok(api.get(f"/users/{user_id}/mailboxes/{box['id']}"))
        ok(api.get(f"/users/{user_id}/mailboxes/resolve?path={quote(box['path'], safe='')}"))
        base = f"/users/{user_id}/mailboxes/{box['id']}/messages"
        for order in ("asc", "desc"):
            listing = ok(api.get(f"{base}?order={order}&limit=250"))
        for message in listing["results"]:
            seen += 1
            uid = message["id"]
            details = ok(api.get(f"{base}/{uid}"))
            source = ok(api.get(f"{base}/{uid}/message.eml"))
            assert source.raw
            ok(api.get(f"{base}/{uid}/events"))
            for attachment in details["attachments"]:
                ok(api.get(f"{base}/{uid}/attachments/{attachment['id']}"))
    return seen


def test_worst_accepted_values_everywhere_read_back_without_error(api):
    # --- user: longest username, name, tags; largest numbers; odd language and ip
    username = ("a" * 60 + "." + "b-" * 30 + "c")[:110] + "@x.io"
    assert len(username) <= 128
    user = ok(api.post("/users", {
        "username": username, "password": fill(256), "name": fill(256),
        "address": "l" * 64 + "@" + "д" * 60 + ".рф",
        "quota": 2**53 - 1, "retention": 2**53 - 1, "recipients": 1_000_000,
        "forwards": 1_000_000, "language": "zzz-abcdefgh",
        "tags": [fill(256, ch + MIX) for ch in "abcdefghijklmnopqrstuvwxyz0123456789"],
        "disabledScopes": [], "sess": fill(255), "ip": "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
    }))
    user_id = user["id"]
    ok(api.put(f"/users/{user_id}", {"name": fill(256, EMOJI), "tags": [fill(256, RTL)],
                                     "quota": 2**53 - 1, "retention": 0}))
    ok(api.put(f"/users/{user_id}/logout", {"reason": fill(256)}))

    # --- addresses: longest local part, unicode domains, names
    ok(api.post(f"/users/{user_id}/addresses", {
        "address": fill(64, "z") + "@" + "ü" * 50 + "." + "例" * 20,
        "name": fill(256), "tags": [fill(256)]}))
    ok(api.post(f"/users/{user_id}/addresses", {"address": "ñ" * 64 + "@localhost",
                                                "name": fill(256, ASTRAL)}))

    # --- mailboxes: the deepest and widest path, unicode segments, retention extremes
    deep = "/".join(fill(8, chr(0x4E00 + i)) for i in range(mailbox_paths.MAX_LEVELS))
    wide = "/".join(fill(mailbox_paths.MAX_SEGMENT, MIX[i:] + MIX[:i]) for i in range(4))
    for path in (deep, wide, fill(mailbox_paths.MAX_SEGMENT, EMOJI), "INBOX/" + fill(512, RTL)):
        ok(api.post(f"/users/{user_id}/mailboxes", {"path": path, "retention": 2**53 - 1,
                                                    "hidden": True}))
    ok(api.post(f"/users/{user_id}/asps", {"description": fill(255), "scopes": ["imap"],
                                           "ttl": 10 * 365 * 24 * 3600}))
    ok(api.post(f"/users/{user_id}/2fa/totp/setup", {"label": fill(255, "l"),
                                                     "issuer": fill(42, ASTRAL)}))

    boxes = mailbox_ids(user_id)
    inbox, trash = boxes["INBOX"], boxes["Trash"]
    messages = f"/users/{user_id}/mailboxes/{inbox}/messages"

    # --- structured upload: every field at its worst
    people = [{"name": fill(256), "address": fill(60, "q") + f"{i}@" + "я" * 30 + ".рф"}
              for i in range(500)]
    attachment = base64.b64encode(bytes(range(256)) * 40).decode()
    ok(api.post(messages, {
        "from": {"name": fill(256), "address": "ü" * 64 + "@" + "例" * 40 + ".中国"},
        "to": people, "cc": people[:50], "bcc": people[:50], "replyTo": people[:5],
        "subject": fill(2048), "text": fill(200_000, MIX + "\t\r\n"),
        "html": "<p>" + fill(100_000, MIX + "\n") + "</p>",
        "attachments": [
            {"filename": fill(255), "contentType": "application/x-" + "a" * 240,
             "content": attachment, "cid": fill(255, "c"), "contentDisposition": "inline"},
            {"filename": fill(251, EMOJI) + ".txt", "content": attachment},
            {"content": base64.b64encode(b"From: a@b.c\r\n\r\nhi").decode(),
             "contentType": "message/rfc822"},
        ],
        "headers": [{"key": "X-" + "k" * 250, "value": fill(998)},
                    {"key": "Message-ID", "value": "<" + fill(900) + ">"},
                    {"key": "In-Reply-To", "value": fill(998, ASTRAL)}],
        "unseen": True, "flagged": True, "draft": True, "date": LAST_DATE,
    }))
    # the earliest internal date, and the largest epoch-ms number in range
    ok(api.post(messages, {"subject": fill(10), "text": "x", "date": FIRST_DATE}))
    ok(api.post(messages, {"subject": fill(10), "text": "x", "date": MAX_DATE_MS}))
    # raw sources with headers at the edges of what a parser meets
    for date_header in ("Fri, 31 Dec 9999 23:59:59 -1200", "Mon, 1 Jan 0001 00:00:00 +1400",
                        "Thu, 1 Jan 1970 00:00:00 +0000", "not a date at all"):
        raw = (f"From: =?utf-8?b?{base64.b64encode(fill(200).encode()).decode()}?= <a@b.c>\r\n"
               f"Subject: =?utf-8?b?{base64.b64encode(fill(500).encode()).decode()}?=\r\n"
               f"Date: {date_header}\r\nMessage-ID: <{'m' * 990}@x>\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\n"
               f"{fill(1000, MIX + chr(10))}\r\n").encode("utf-8")
        ok(api.call("POST", messages, raw=raw, headers={"content-type": "message/rfc822"}))
    ok(api.post(messages, {"raw": base64.b64encode(b"Subject: b64\r\n\r\nbody").decode()}))

    # --- updates: expires at both ends, flags, moves (single and bulk forms)
    ok(api.put(f"{messages}/1", {"expires": LAST_DATE, "seen": True}))
    ok(api.put(f"{messages}/2", {"expires": FIRST_DATE}))
    ok(api.put(f"{messages}/3", {"expires": MAX_DATE_MS}))
    ok(api.put(f"{messages}/3", {"expires": False}))
    ok(api.put(messages, {"message": "1:*", "flagged": True, "deleted": True}))
    ok(api.put(messages, {"message": "4,5", "moveTo": trash, "expires": LAST_DATE}))
    ok(api.put(f"{messages}/6", {"moveTo": trash, "expires": str(MAX_DATE_MS)}))

    # --- the archive: delete the worst message, read it there, restore it
    ok(api.delete(f"{messages}/1"))
    archived = ok(api.get(f"/users/{user_id}/archived"))["results"]
    assert len(archived) == 1
    ok(api.get(f"/users/{user_id}/archived/{archived[0]['id']}"))
    ok(api.post(f"/users/{user_id}/archived/{archived[0]['id']}/restore", {}))
    ok(api.post(f"/users/{user_id}/quota/reset", {}))

    assert read_everything(api, user_id) == 8


@pytest.mark.parametrize("date", [FIRST_DATE, LAST_DATE, 0, MAX_DATE_MS])
def test_extreme_dates_are_shown_as_given(api, make_user, date):
    user_id = make_user("dates")
    messages = f"/users/{user_id}/mailboxes/{mailbox_ids(user_id)['INBOX']}/messages"
    ok(api.post(messages, {"subject": "s", "text": "t", "date": date}))
    ok(api.put(f"{messages}/1", {"expires": date}))
    message = ok(api.get(f"{messages}/1"))
    listing = ok(api.get(messages))
    assert listing["results"][0]["id"] == 1
    if date in (0, FIRST_DATE):
        assert message["idate"] == FIRST_DATE
        assert message["expires"] is False  # an expires of the epoch clears the expiry
    else:
        # (the upload service keeps internal dates below 10**14 ms, year 5138)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["idate"])
        assert message["expires"] == LAST_DATE
