"""Accounts with `encryptMessages` and a PGP key get PGP/MIME-encrypted storage."""
from __future__ import annotations

import warnings

import pytest

from chalicelib.mail import attachment_bytes, parse_message
from chalicelib.store import blobs
from tests.support import Account, fixture, mailbox_ids, upload_raw


@pytest.fixture(scope="module")
def keypair():
    """A 2048-bit RSA key, generated once per module (the slow part)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import (CompressionAlgorithm, HashAlgorithm, KeyFlags,
                                    PubKeyAlgorithm, SymmetricKeyAlgorithm)

        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_uid(pgpy.PGPUID.new("Secret Keeper", email="keeper@example.com"),
                    usage={KeyFlags.Sign, KeyFlags.EncryptCommunications,
                           KeyFlags.EncryptStorage},
                    hashes=[HashAlgorithm.SHA256], ciphers=[SymmetricKeyAlgorithm.AES256],
                    compression=[CompressionAlgorithm.Uncompressed])
    return key, str(key.pubkey)


def decrypt(key, stored: bytes) -> bytes:
    parsed = parse_message(stored)
    armored = next(a for a in parsed.attachments if a.content_type == "application/octet-stream")
    data, _, _ = attachment_bytes(stored, armored.id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        return bytes(key.decrypt(pgpy.PGPMessage.from_blob(data.decode("ascii"))).message)


def test_stored_source_is_pgp_mime_for_the_key_and_listing_stays_readable(api, make_user,
                                                                          keypair):
    key, public = keypair
    user_id = make_user("secretive", pubKey=public, encryptMessages=True)
    account = Account(user_id, mailbox_ids(user_id))
    original = fixture("gmail_reply_alternative.eml")
    reply = upload_raw(api, account, original)
    assert reply.status == 200, reply

    listed = api.get(account.messages())["results"][0]
    assert listed["subject"] == "Re: Café meeting ☕" and listed["encrypted"] is True
    assert listed["from"]["address"] == "alice@gmail.com"
    details = api.get(f"{account.messages()}/1").json
    assert details["contentType"]["value"] == "multipart/encrypted"
    assert "café at 10" not in details["text"] and details["messageId"]

    stored = api.get(f"{account.messages()}/1/message.eml", headers={"accept": "*/*"}).raw
    assert b"see you at the caf" not in stored
    assert decrypt(key, stored) == original
    raw_objects = [o.key for o in blobs.list_prefix(f"msg/{user_id}/")]
    assert b"see you at the caf" not in b"".join(blobs.get(k) for k in raw_objects)
    assert reply["message"]["size"] == len(stored)


def test_without_encrypt_messages_the_key_alone_changes_nothing(api, make_user, keypair):
    user_id = make_user("keyonly", pubKey=keypair[1])
    account = Account(user_id, mailbox_ids(user_id))
    original = fixture("gmail_reply_alternative.eml")
    upload_raw(api, account, original)
    assert api.get(f"{account.messages()}/1/message.eml",
                   headers={"accept": "*/*"}).raw == original
