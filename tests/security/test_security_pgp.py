from __future__ import annotations

import warnings
from dataclasses import FrozenInstanceError
from typing import Iterator

import pytest

from chalicelib.security.pgp import InvalidPublicKey, KeyInfo, key_info


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """Overrides the suite-wide moto set-up: this layer never touches AWS."""
    yield


@pytest.fixture(scope="module")
def private_key():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        uid = pgpy.PGPUID.new("Test User", email="test@example.com")
        key.add_uid(
            uid,
            usage={KeyFlags.Sign, KeyFlags.EncryptCommunications},
            hashes=[HashAlgorithm.SHA256],
            primary=True,
        )
        return key


@pytest.fixture(scope="module")
def public_armored(private_key) -> str:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(private_key.pubkey)


def test_public_key_info(private_key, public_armored: str) -> None:  # type: ignore[no-untyped-def]
    info = key_info(public_armored)
    assert info == KeyInfo(
        name="Test User",
        address="test@example.com",
        fingerprint=str(private_key.fingerprint).replace(" ", "").lower(),
    )
    assert len(info.fingerprint) == 40
    assert info.fingerprint == info.fingerprint.lower()
    assert " " not in info.fingerprint


def test_surrounding_whitespace_is_tolerated(public_armored: str) -> None:
    assert key_info("\n\n  " + public_armored + "\n").address == "test@example.com"


def test_key_info_is_frozen(public_armored: str) -> None:
    info = key_info(public_armored)
    with pytest.raises(FrozenInstanceError):
        info.name = "Other"  # type: ignore[misc]


def test_private_key_is_rejected(private_key) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidPublicKey, match="private"):
        key_info(str(private_key))


def test_message_is_not_a_key() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

        armored = str(pgpy.PGPMessage.new("hello"))
    with pytest.raises(InvalidPublicKey):
        key_info(armored)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "garbage",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all!!\n-----END PGP PUBLIC KEY BLOCK-----\n",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\naGVsbG8gd29ybGQ=\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
    ],
)
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(InvalidPublicKey) as excinfo:
        key_info(text)
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value)


def test_truncated_key_is_rejected(public_armored: str) -> None:
    lines = public_armored.strip().splitlines()
    truncated = "\n".join(lines[:4] + lines[-1:]) + "\n"
    with pytest.raises(InvalidPublicKey):
        key_info(truncated)
