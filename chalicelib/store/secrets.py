"""Envelope for small secrets at rest (TOTP seeds): KMS encrypt/decrypt.

The KMS client is created on first use so cold starts of routes that never touch a
secret do not pay for it. An encryption context binds every ciphertext to its owner
and purpose: a seed copied onto another account's item does not decrypt there.
"""
from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from chalicelib.config import settings


@lru_cache(maxsize=4)
def _client(region: str) -> Any:
    import boto3

    return boto3.client("kms", region_name=region)


def encrypt(plaintext: str, context: dict[str, str]) -> str:
    """Base64 ciphertext of `plaintext` under the configured key (1 KMS Encrypt)."""
    config = settings()
    response = _client(config.region).encrypt(
        KeyId=config.kms_key_id, Plaintext=plaintext.encode("utf-8"),
        EncryptionContext=context)
    return base64.b64encode(response["CiphertextBlob"]).decode("ascii")


def decrypt(ciphertext: str, context: dict[str, str]) -> str:
    """The plaintext of `encrypt`'s output, given the same context (1 KMS Decrypt)."""
    config = settings()
    response = _client(config.region).decrypt(
        KeyId=config.kms_key_id, CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext=context)
    return bytes(response["Plaintext"]).decode("utf-8")
