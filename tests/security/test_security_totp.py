from __future__ import annotations

import base64
import time
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from chalicelib.security.totp import new_seed, otpauth_uri, qr_data_url, verify_totp


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """Overrides the suite-wide moto set-up: this layer never touches AWS."""
    yield

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = 1_700_000_015.0


def test_new_seed_is_base32_of_20_bytes() -> None:
    seed = new_seed()
    assert len(seed) == 32
    assert len(base64.b32decode(seed)) == 20
    assert new_seed() != seed


def test_otpauth_uri() -> None:
    seed = new_seed()
    uri = otpauth_uri(seed, "alice@example.com", "Example Mail")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert "alice%40example.com" in parsed.path
    query = parse_qs(parsed.query)
    assert query["secret"] == [seed]
    assert query["issuer"] == ["Example Mail"]
    assert pyotp.parse_uri(uri).secret == seed


def test_qr_data_url_is_png() -> None:
    url = qr_data_url(otpauth_uri(new_seed(), "alice@example.com", "Example Mail"))
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    png = base64.b64decode(url[len(prefix):], validate=True)
    assert png.startswith(PNG_SIGNATURE)
    assert 200 < len(png) < 20_000


def test_current_token_matches() -> None:
    seed = new_seed()
    before = int(time.time() // 30)
    counter = verify_totp(seed, pyotp.TOTP(seed).now())
    assert counter is not None
    assert before <= counter <= int(time.time() // 30)


def test_returns_matched_counter() -> None:
    seed = new_seed()
    totp = pyotp.TOTP(seed)
    step = int(NOW // 30)
    assert verify_totp(seed, totp.at(NOW), at=NOW) == step
    assert verify_totp(seed, totp.at(NOW - 30), at=NOW) == step - 1
    assert verify_totp(seed, totp.at(NOW + 30), at=NOW) == step + 1


def test_window_limits() -> None:
    seed = new_seed()
    totp = pyotp.TOTP(seed)
    assert verify_totp(seed, totp.at(NOW - 90), at=NOW) is None
    assert verify_totp(seed, totp.at(NOW + 90), at=NOW) is None
    assert verify_totp(seed, totp.at(NOW - 30), at=NOW, window=0) is None
    assert verify_totp(seed, totp.at(NOW - 90), at=NOW, window=3) == int(NOW // 30) - 3


def test_spaces_are_stripped() -> None:
    seed = new_seed()
    token = pyotp.TOTP(seed).at(NOW)
    assert verify_totp(seed, f" {token[:3]} {token[3:]} ", at=NOW) == int(NOW // 30)


@pytest.mark.parametrize("token", ["", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦", None])
def test_garbage_tokens(token: str) -> None:
    assert verify_totp(new_seed(), token, at=NOW) is None


@pytest.mark.parametrize("seed", ["", "not base32!", "1" * 16])
def test_bad_seed_returns_none(seed: str) -> None:
    assert verify_totp(seed, "123456", at=NOW) is None
