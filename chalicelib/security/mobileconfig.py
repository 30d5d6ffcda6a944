"""Apple configuration profile that sets up an IMAP (or POP3) + SMTP account on iOS and
macOS.

Typically generated together with an application-specific password, which it embeds.
With a signing certificate the profile is CMS signed data (what Apple devices show as
"Verified"); without one it is the plain plist, which devices accept as "Unsigned".
"""
from __future__ import annotations

import plistlib
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # imported where used: most cold starts never sign a profile
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa


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
    incoming: Literal["imap", "pop3"] = "imap",
    pop3_host: str = "",
    pop3_port: int = 995,
    pop3_ssl: bool = True,
) -> bytes:
    """XML plist bytes of a `Configuration` profile with one `com.apple.mail.managed` payload.

    `display_name` is the sender name on the account and the profile's title (falling back
    to the address when empty); `identifier` is a reverse-DNS id unique per account.
    `incoming` picks the server mail is read from: IMAP, or POP3 for a password that
    may not use IMAP.
    """
    title = display_name or email
    pop = incoming == "pop3"
    mail_payload = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.mail",
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": title,
        "PayloadDescription": f"Mail account {email}",
        "PayloadOrganization": organization,
        "EmailAccountType": "EmailTypePOP" if pop else "EmailTypeIMAP",
        "EmailAccountName": display_name or email,
        "EmailAccountDescription": email,
        "EmailAddress": email,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": pop3_host if pop else imap_host,
        "IncomingMailServerPortNumber": int(pop3_port if pop else imap_port),
        "IncomingMailServerUseSSL": bool(pop3_ssl if pop else imap_ssl),
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


@dataclass(frozen=True)
class Signer:
    """A certificate, its private key and the chain to ship with signed profiles."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...] = ()


def _pem(text: str) -> bytes:
    # Environment variables sometimes carry PEM with escaped line breaks.
    return text.replace("\\n", "\n").strip().encode("ascii")


@lru_cache(maxsize=4)
def load_signer(certificate_pem: str, key_pem: str, chain_pem: str = "") -> Signer:
    """Parse and check a signing configuration once per process; ValueError when the
    PEM is not a certificate and its unencrypted RSA or EC private key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    certificate = x509.load_pem_x509_certificate(_pem(certificate_pem))
    key = serialization.load_pem_private_key(_pem(key_pem), password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise ValueError("the signing key must be an RSA or EC private key")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != \
            certificate.public_key().public_bytes(serialization.Encoding.DER, public):
        raise ValueError("the signing key does not belong to the certificate")
    chain = tuple(x509.load_pem_x509_certificates(_pem(chain_pem))) if chain_pem.strip() else ()
    return Signer(certificate, key, chain)


def sign_profile(profile: bytes, signer: Signer) -> bytes:
    """The profile as DER-encoded CMS signed data that embeds it (SHA-256)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    builder = pkcs7.PKCS7SignatureBuilder().set_data(profile).add_signer(
        signer.certificate, signer.key, hashes.SHA256())
    for certificate in signer.chain:
        builder = builder.add_certificate(certificate)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
