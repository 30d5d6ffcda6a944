from __future__ import annotations

import plistlib
import uuid
from typing import Any, Iterator

import pytest

from chalicelib.security.mobileconfig import build_mobileconfig


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """Overrides the suite-wide moto set-up: this layer never touches AWS."""
    yield


def _build(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        email="alice@example.com",
        display_name="Alice Example",
        username="alice",
        password="abcdefghijklmnop",
        imap_host="imap.example.com",
        imap_port=993,
        imap_ssl=True,
        smtp_host="smtp.example.com",
        smtp_port=587,
        smtp_ssl=False,
        identifier="com.example.mail.alice",
        organization="Example Org",
    )
    options.update(overrides)
    data = build_mobileconfig(**options)
    assert isinstance(data, bytes)
    assert data.startswith(b"<?xml")
    return plistlib.loads(data)


def test_round_trip() -> None:
    profile = _build()
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    assert profile["PayloadIdentifier"] == "com.example.mail.alice"
    assert profile["PayloadDisplayName"] == "Alice Example"
    assert profile["PayloadOrganization"] == "Example Org"
    uuid.UUID(profile["PayloadUUID"])
    [mail] = profile["PayloadContent"]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["PayloadVersion"] == 1
    assert mail["PayloadIdentifier"].startswith("com.example.mail.alice.")
    assert uuid.UUID(mail["PayloadUUID"]) != uuid.UUID(profile["PayloadUUID"])
    assert mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["EmailAddress"] == "alice@example.com"
    assert mail["EmailAccountName"] == "Alice Example"
    assert mail["IncomingMailServerHostName"] == "imap.example.com"
    assert mail["IncomingMailServerPortNumber"] == 993
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["IncomingMailServerUsername"] == "alice"
    assert mail["IncomingPassword"] == "abcdefghijklmnop"
    assert mail["OutgoingMailServerHostName"] == "smtp.example.com"
    assert mail["OutgoingMailServerPortNumber"] == 587
    assert mail["OutgoingMailServerUseSSL"] is False
    assert mail["OutgoingMailServerUsername"] == "alice"
    assert mail["OutgoingPassword"] == "abcdefghijklmnop"
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True


def test_uuids_are_fresh() -> None:
    assert _build()["PayloadUUID"] != _build()["PayloadUUID"]


def test_empty_display_name_falls_back_to_address() -> None:
    profile = _build(display_name="")
    assert profile["PayloadDisplayName"] == "alice@example.com"
    assert profile["PayloadContent"][0]["EmailAccountName"] == "alice@example.com"


def test_xml_special_characters_are_escaped() -> None:
    profile = _build(display_name="A <&> B", password="p<&>\"'")
    assert profile["PayloadContent"][0]["IncomingPassword"] == "p<&>\"'"
    assert profile["PayloadDisplayName"] == "A <&> B"
