"""Properties of the pure kernels, checked with Hypothesis over generated inputs.

- paging cursors: what is encoded decodes to the same key and direction, and any change
  to the token (or using it for another listing) is refused;
- mailbox paths: normalization is idempotent and its output obeys the path rules;
- composing then parsing a message keeps its subject, addresses and text.

Kept fast: modest example counts, no deadline (the shared CI machine is slow at times).
"""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from chalicelib import mailbox_paths
from chalicelib.addressing import normalize_address
from chalicelib.cursors import decode_cursor, encode_cursor
from chalicelib.errors import InputValidationError
from chalicelib.mail.compose import compose_message
from chalicelib.mail.parse import parse_message

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Text without surrogates (not encodable) and without C0/C1 controls (refused at the edge).
LINE_CHARS = st.characters(blacklist_categories=("Cs", "Cc"))
lines = st.text(LINE_CHARS, max_size=60)

# ----------------------------------------------------------------------------- cursors

key_values = st.one_of(st.text(LINE_CHARS, max_size=40),
                       st.integers(min_value=-(2**63), max_value=2**63))
keys = st.dictionaries(st.text(LINE_CHARS, min_size=1, max_size=20), key_values,
                       min_size=1, max_size=4)
scopes = st.text(LINE_CHARS, min_size=1, max_size=40)
directions = st.sampled_from(["next", "previous"])
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@FAST
@given(scope=scopes, key=keys, direction=directions)
def test_cursor_round_trip(scope, key, direction):
    cursor = decode_cursor(scope, encode_cursor(scope, key, direction))
    assert cursor.key == key and cursor.direction == direction


@FAST
@given(scope=scopes, key=keys, direction=directions, data=st.data())
def test_a_tampered_cursor_is_refused(scope, key, direction, data):
    token = encode_cursor(scope, key, direction)
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="index")
    replacement = data.draw(st.sampled_from(B64URL + "."), label="replacement")
    assume(token[index] != replacement)
    tampered = token[:index] + replacement + token[index + 1:]
    with pytest.raises(InputValidationError):
        decode_cursor(scope, tampered)


@FAST
@given(scope=scopes, other=scopes, key=keys, direction=directions)
def test_a_cursor_of_another_listing_is_refused(scope, other, key, direction):
    assume(scope != other)
    with pytest.raises(InputValidationError):
        decode_cursor(other, encode_cursor(scope, key, direction))


@FAST
@given(garbage=st.text(max_size=80))
def test_any_string_as_a_cursor_is_a_400_never_a_crash(garbage):
    try:
        decode_cursor("scope", garbage)
    except InputValidationError:
        pass


# ----------------------------------------------------------------------------- paths

# Slashes, the letters of "inbox" in both cases, look-alikes (dotless i, Kelvin sign),
# combining marks, and some other text: the characters normalization has to get right.
path_chars = st.one_of(
    st.sampled_from(list("/inboxINBOX/ ") + ["\u0131", "\u212a", "\u0301", "\u0327", "e",
                                             "\u00e9", "\U0001F600", "\u05e9"]),
    LINE_CHARS)
paths = st.text(path_chars, max_size=40)


def _normalized_or_none(path: str) -> str | None:
    try:
        return mailbox_paths.normalize_path(path)
    except ValueError:
        return None


@FAST
@given(path=paths)
@example(path="\u0131nbox/a")  # dotless i: upper() is "INBOX", but it is not the INBOX
@example(path="/inbox//")
def test_path_normalization_is_idempotent_and_obeys_the_rules(path):
    normal = _normalized_or_none(path)
    if normal is None:
        return
    assert mailbox_paths.normalize_path(normal) == normal
    assert unicodedata.is_normalized("NFC", normal)
    assert not normal.startswith("/") and not normal.endswith("/")
    segments = normal.split("/")
    assert all(segments) and len(segments) <= mailbox_paths.MAX_LEVELS
    assert all(len(segment) <= mailbox_paths.MAX_SEGMENT for segment in segments)
    # INBOX is the one folder whose name is case-insensitive (ASCII case, as in IMAP)
    first = unicodedata.normalize("NFC", path).strip("/").split("/")[0]
    if first.isascii() and first.upper() == "INBOX":
        assert segments[0] == "INBOX"
    else:
        assert segments[0] == first


@FAST
@given(path=paths)
def test_outer_slashes_do_not_change_a_path(path):
    assert _normalized_or_none("/" + path + "/") == _normalized_or_none(path)


@FAST
@given(segments=st.lists(st.text(LINE_CHARS.filter(lambda c: c != "/"), min_size=1,
                                 max_size=8), min_size=1, max_size=6))
def test_paths_of_valid_segments_are_accepted(segments):
    path = "/".join(segments)
    assert _normalized_or_none(path) is not None


# ----------------------------------------------------------------------------- mail

local_parts = st.from_regex(r"\A[a-zA-Z0-9]{1,8}([._+-][a-zA-Z0-9]{1,8}){0,3}\Z")
domains = st.sampled_from(["example.com", "mail.example.org", "xn--bcher-kva.example",
                           "例え.jp", "уайлддак.орг"])
names = st.text(LINE_CHARS, max_size=40)
addresses = st.builds(lambda local, domain, name: {"name": name, "address": f"{local}@{domain}"},
                      local_parts, domains, names)
subjects = st.text(LINE_CHARS, max_size=120)
texts = st.text(st.characters(blacklist_categories=("Cs",),
                              blacklist_characters="\x00\x0b\x0c\x1c\x1d\x1e\x85"
                              "\u2028\u2029\x7f") | st.sampled_from(["\n", "\t"]),
                max_size=300)


def _collapsed(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=60, deadline=None)
@given(sender=addresses, to=st.lists(addresses, min_size=1, max_size=3), subject=subjects,
       text=texts)
# Found by this test: the stdlib folder encoded the comma between these two addresses
# (`=?utf-8?q?=2C?=`), so a reader saw one address.
@example(sender={"name": "", "address": "00@example.com"},
         to=[{"name": "00\u00a1\u00a1\u00a1\u00a1\u00a1\u00a1\U00010000\U00010000",
              "address": "0000@\u0443\u0430\u0439\u043b\u0434\u0434\u0430\u043a.\u043e\u0440\u0433"},
             {"name": "0", "address": "00@example.com"}],
         subject="", text="")
@example(sender={"name": 'a "q", \\ b', "address": "a@example.com"},
         to=[{"name": "=?utf-8?q?x?=", "address": "b@example.com"}], subject="=?utf-8?q?y?=",
         text="x")
def test_compose_then_parse_keeps_subject_addresses_and_text(sender, to, subject, text):
    parsed = parse_message(compose_message(from_=sender, to=to, subject=subject, text=text))
    assert _collapsed(parsed.subject) == _collapsed(subject)
    # the same address, whatever the domain's spelling (compose writes IDNA)
    assert normalize_address(parsed.from_["address"]) == normalize_address(sender["address"])
    assert [normalize_address(a["address"]) for a in parsed.to] == \
        [normalize_address(a["address"]) for a in to]
    assert [_collapsed(a["name"]) for a in parsed.to] == [_collapsed(a["name"]) for a in to]
    assert parsed.text.replace("\r\n", "\n").rstrip("\n") == \
        text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
