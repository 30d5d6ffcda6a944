"""Apple configuration profile that sets up an IMAP/SMTP account on iOS and macOS.

Typically generated together with an application-specific password, which it embeds;
the profile is unsigned.
"""
from __future__ import annotations

import plistlib
import uuid


def build_mobileconfig(
    *,
    email: str,
    display_name: str,
    username: str,
    password: str,
    imap_host: str,
    imap_port: int,
    imap_ssl: bool,
    smtp_host: str,
    smtp_port: int,
    smtp_ssl: bool,
    identifier: str,
    organization: str,
) -> bytes:
    """XML plist bytes of a `Configuration` profile with one `com.apple.mail.managed` payload.

    `display_name` is the sender name on the account and the profile's title (falling back
    to the address when empty); `identifier` is a reverse-DNS id unique per account.
    """
    title = display_name or email
    mail_payload = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.mail",
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": title,
        "PayloadDescription": f"Mail account {email}",
        "PayloadOrganization": organization,
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAccountName": display_name or email,
        "EmailAccountDescription": email,
        "EmailAddress": email,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": imap_host,
        "IncomingMailServerPortNumber": int(imap_port),
        "IncomingMailServerUseSSL": bool(imap_ssl),
        "IncomingMailServerUsername": username,
        "IncomingPassword": password,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": smtp_host,
        "OutgoingMailServerPortNumber": int(smtp_port),
        "OutgoingMailServerUseSSL": bool(smtp_ssl),
        "OutgoingMailServerUsername": username,
        "OutgoingPassword": password,
        "OutgoingPasswordSameAsIncomingPassword": True,
        "PreventAppSheet": False,
        "PreventMove": False,
        "SMIMEEnabled": False,
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": title,
        "PayloadDescription": f"Configures the mail account {email}",
        "PayloadOrganization": organization,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [mail_payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)
