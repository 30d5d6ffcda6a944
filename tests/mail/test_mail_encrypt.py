import warnings

import pytest

from chalicelib.mail import attachment_bytes, compose_message, encrypt_message, is_pgp_mime, parse_message
from chalicelib.mail.encrypt import crc24


@pytest.fixture(autouse=True)
def aws():
    """The mail layer never touches AWS: skip the per-test moto account of tests/conftest.py."""
    yield


@pytest.fixture(scope="module")
def keypair():
    """A 2048-bit RSA key, generated once per module: key generation is the slow part."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import (
            CompressionAlgorithm,
            HashAlgorithm,
            KeyFlags,
            PubKeyAlgorithm,
            SymmetricKeyAlgorithm,
        )

        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_uid(
            pgpy.PGPUID.new("Alice", email="alice@example.com"),
            usage={KeyFlags.Sign, KeyFlags.EncryptCommunications, KeyFlags.EncryptStorage},
            hashes=[HashAlgorithm.SHA256],
            ciphers=[SymmetricKeyAlgorithm.AES256],
            compression=[CompressionAlgorithm.ZLIB, CompressionAlgorithm.Uncompressed],
        )
    return key, str(key.pubkey)


@pytest.fixture(scope="module")
def original():
    return compose_message(
        from_={"name": "Jörg", "address": "jorg@example.de"},
        to=[{"name": "Alice", "address": "alice@example.com"}],
        cc=[{"name": "", "address": "cc@example.com"}],
        subject="Vertraulich: Gehälter",
        text="Secret numbers: 42\n",
        html="<p>Secret numbers: <b>42</b></p>",
        attachments=[{"filename": "salaries.csv", "content": "bmFtZSxzYWxhcnkKQSwxCg=="}],
        headers=[
            {"key": "In-Reply-To", "value": "<parent@example.com>"},
            {"key": "References", "value": "<root@example.com> <parent@example.com>"},
            {"key": "X-Private", "value": "do not leak"},
        ],
    )


def decrypt(key, encrypted: bytes) -> bytes:
    parsed = parse_message(encrypted)
    armored = next(a for a in parsed.attachments if a.content_type == "application/octet-stream")
    data, _, _ = attachment_bytes(encrypted, armored.id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", message="Incorrect crc24")
        import pgpy

        return bytes(key.decrypt(pgpy.PGPMessage.from_blob(data.decode("ascii"))).message)


def test_encrypted_message_keeps_listing_headers_readable(keypair, original):
    _, public = keypair
    before = parse_message(original)
    after = parse_message(encrypt_message(original, public))

    assert after.from_ == before.from_
    assert after.to == before.to and after.cc == before.cc
    assert after.subject == "Vertraulich: Gehälter"
    assert after.date == before.date
    assert after.message_id == before.message_id
    assert after.in_reply_to == "<parent@example.com>"
    assert after.references == before.references


def test_encrypted_message_hides_body_and_other_headers(keypair, original):
    encrypted = encrypt_message(original, keypair[1])
    parsed = parse_message(encrypted)

    assert b"Secret numbers" not in encrypted
    assert b"X-Private" not in encrypted
    assert parsed.text == "" and parsed.html == []


def test_encrypted_message_is_pgp_mime(keypair, original):
    encrypted = encrypt_message(original, keypair[1])
    parsed = parse_message(encrypted)

    assert parsed.content_type["value"] == "multipart/encrypted"
    assert parsed.content_type["params"]["protocol"] == "application/pgp-encrypted"
    assert [a.content_type for a in parsed.attachments] == ["application/pgp-encrypted", "application/octet-stream"]
    version, _, _ = attachment_bytes(encrypted, "ATT00001")
    assert version.strip() == b"Version: 1"
    armored, _, _ = attachment_bytes(encrypted, "ATT00002")
    assert armored.startswith(b"-----BEGIN PGP MESSAGE-----")
    assert armored.rstrip().endswith(b"-----END PGP MESSAGE-----")
    assert is_pgp_mime(encrypted)
    assert not is_pgp_mime(original)


def test_encrypted_part_decrypts_to_the_original_bytes(keypair, original):
    key, public = keypair
    assert decrypt(key, encrypt_message(original, public)) == original


def test_non_utf8_lf_message_decrypts_byte_for_byte(keypair):
    key, public = keypair
    raw = b"From: a@example.com\nSubject: Gr\xfc\xdfe\nContent-Type: text/plain; charset=iso-8859-1\n\nK\xf6ln\n"
    encrypted = encrypt_message(raw, public)

    assert decrypt(key, encrypted) == raw
    assert parse_message(encrypted).subject == "Grüße"


def test_already_encrypted_message_is_returned_unchanged(keypair, original):
    encrypted = encrypt_message(original, keypair[1])
    assert encrypt_message(encrypted, keypair[1]) is encrypted


def test_invalid_public_key_raises_value_error(original):
    with pytest.raises(ValueError):
        encrypt_message(original, "not a key")


def test_encryption_does_not_leak_pgpy_warnings(keypair, original):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encrypt_message(original, keypair[1])
    assert caught == []


def test_armor_checksum_matches_pgpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgpy.types import Armorable

    for data in (b"", b"a", bytes(range(256)) * 3):
        assert crc24(data) == Armorable.crc24(bytearray(data))
