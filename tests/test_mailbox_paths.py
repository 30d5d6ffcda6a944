"""Mailbox path normalization and ordering (pure)."""
from __future__ import annotations

import unicodedata

import pytest

from chalicelib.mailbox_paths import is_within, listing_order, moved, normalize_path
from chalicelib.store.lookups import MAX_KEY_BYTES, mailbox_key


@pytest.mark.parametrize("given, stored", [
    ("inbox", "INBOX"),
    ("Inbox/x", "INBOX/x"),
    ("/Foo/Bar/", "Foo/Bar"),
    ("inboxes/x", "inboxes/x"),
    ("x/inbox", "x/inbox"),
    ("Üks/Kaks/Kolm☃", "Üks/Kaks/Kolm☃"),
    (unicodedata.normalize("NFD", "Ülo"), "Ülo"),
])
def test_paths_normalize_to_one_spelling(given, stored):
    assert normalize_path(given) == stored


@pytest.mark.parametrize("given", [
    "", "/", "//", "a//b", "a/\x00", "tab\there", "/".join(["x"] * 129), "a/" + "y" * 513,
])
def test_invalid_paths_are_refused(given):
    with pytest.raises(ValueError):
        normalize_path(given)


def test_limits_are_inclusive():
    assert normalize_path("/".join(["x"] * 128)).count("/") == 127
    assert normalize_path("z" * 512) == "z" * 512


def test_subtree_helpers_respect_segment_boundaries():
    assert is_within("a/b", "a") and is_within("a", "a")
    assert not is_within("ab", "a")
    assert moved("a/b/c", "a/b", "x") == "x/c"


def test_order_puts_inbox_then_its_children_then_subscribed_then_path():
    boxes = [("Zeta", True), ("alpha", False), ("INBOX/Sub", False), ("Beta", True),
             ("INBOX", True), ("Beta/child", True), ("Beta child", True)]
    ordered = sorted(boxes, key=lambda b: listing_order(*b))
    assert [path for path, _ in ordered] == [
        "INBOX", "INBOX/Sub", "Beta", "Beta/child", "Beta child", "Zeta", "alpha"]


def test_paths_too_long_for_a_key_get_a_digest_key_that_no_path_can_spell():
    user = "a" * 24
    short = mailbox_key(user, "Some/Path")
    assert short == f"mailbox#{user}#Some/Path"
    longest = "/".join(["ü" * 512] * 128)
    key = mailbox_key(user, longest)
    assert len(key.encode()) <= MAX_KEY_BYTES
    assert key.startswith(f"mailbox#{user}#/")  # normalized paths never start with '/'
    assert key != mailbox_key(user, longest[:-1])
