from __future__ import annotations

import hashlib
import re
from typing import Iterator

import pytest

from chalicelib.security.secrets import (
    new_asp_password,
    new_temporary_password,
    new_token,
    normalize_asp_password,
    token_digest,
)


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """Overrides the suite-wide moto set-up: this layer never touches AWS."""
    yield


def test_new_asp_password() -> None:
    passwords = {new_asp_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert re.fullmatch(r"[a-z]{16}", password)
        assert normalize_asp_password(password) == password


@pytest.mark.parametrize(
    "text",
    ["abcdefghijklmnop", "abcd efgh ijkl mnop", "ABCDEFGHIJKLMNOP", "\tabcd\nefgh ijkl  mnop "],
)
def test_normalize_asp_password_accepts(text: str) -> None:
    assert normalize_asp_password(text) == "abcdefghijklmnop"


@pytest.mark.parametrize(
    "text",
    ["", "abcdefghijklmno", "abcdefghijklmnopq", "abcd-efgh-ijkl-mnop", "abcdefghijklmno1", "abcdefghijklmnoé", None],
)
def test_normalize_asp_password_rejects(text: str) -> None:
    assert normalize_asp_password(text) is None


def test_new_temporary_password() -> None:
    passwords = {new_temporary_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 24
        assert re.fullmatch(r"[A-Za-z0-9]{24}", password)
        assert not set(password) & set("0O1lI")


def test_new_token() -> None:
    tokens = {new_token() for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert re.fullmatch(r"[0-9a-f]{40}", token)


def test_token_digest() -> None:
    token = new_token()
    digest = token_digest(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert token_digest(token) == digest
    assert token_digest(new_token()) != digest
