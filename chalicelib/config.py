"""Settings read from the environment once per process.

Every stage sets these through `.chalice/config.json`; tests and the local runner set
them before importing the app. Nothing else in the code reads `os.environ`.

A deployed stage (any `STAGE` but `local`) refuses to load without its secrets: the app
import fails with `ConfigurationError` naming what is missing, rather than signing
cursors with an empty key or serving an API nobody can call.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from chalicelib.security.totp import MAX_ISSUER_BYTES, encoded_length

GIB = 1024 * 1024 * 1024
MIN_CURSOR_SECRET = 32
MIN_ACCESS_TOKEN = 16


class ConfigurationError(RuntimeError):
    """The environment describes a stage that must not run (a secret missing or weak)."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_prefix: str
    mail_bucket: str
    default_domain: str
    default_quota: int
    max_recipients: int
    max_forwards: int
    access_token: str
    cursor_secret: str
    password_hash_profile: str
    authlog_days: int
    archive_retention_days: int
    kms_key_id: str
    totp_issuer: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    smtp_host: str
    smtp_port: int
    smtp_ssl: bool
    pop3_host: str
    pop3_port: int
    pop3_ssl: bool
    # PEM certificate, private key and optional chain that sign mobileconfig profiles.
    mobileconfig_sign_cert: str
    mobileconfig_sign_key: str
    mobileconfig_sign_chain: str
    service_name: str
    user_token_ttl: int
    # The updates channel (services/realtime): how long a long-poll of
    # GET /users/{user}/updates waits for news, how often it reads the journal while it
    # waits, the reconnection delay it advises, and where websocket messages are posted
    # (the stage's management API).
    updates_wait_s: float
    updates_poll_s: float
    updates_retry_ms: int
    websocket_endpoint: str
    # The SES identity (a domain, or one address) outbound mail is sent as; the stage's
    # policy allows sending only through it (services/outbound.py, infra/policy.py).
    ses_identity: str
    # Inbound mail (services/delivery.py): the prefix under which the SES receipt rule's
    # S3 action stores raw mail, and whether filters' http(s) targets may reach
    # loopback, link-local and private addresses (only for local development).
    inbound_prefix: str
    webhooks_allow_private: bool

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    def table(self, name: str) -> str:
        return f"{self.table_prefix}{name}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    stage = env.get("STAGE", "local")
    return _checked(Settings(
        stage=stage,
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        table_prefix=env.get("TABLE_PREFIX", "wildduck-local-"),
        mail_bucket=env.get("MAIL_BUCKET", "wildduck-local-mail"),
        default_domain=env.get("DEFAULT_DOMAIN", "example.com"),
        default_quota=int(env.get("DEFAULT_QUOTA", str(GIB))),
        # Daily sending limits of accounts without their own (WildDuck's defaults).
        max_recipients=int(env.get("MAX_RECIPIENTS", "2000")),
        max_forwards=int(env.get("MAX_FORWARDS", "2000")),
        access_token=env.get("ACCESS_TOKEN", ""),
        # A fixed local secret keeps cursors valid across `chalice local` restarts; the
        # deployed stages must configure their own (see README, Configuration).
        cursor_secret=env.get("CURSOR_SECRET", "local-cursor-secret" if stage == "local" else ""),
        password_hash_profile=env.get("PASSWORD_HASH_PROFILE", "strong"),
        authlog_days=int(env.get("AUTHLOG_DAYS", "30")),
        archive_retention_days=int(env.get("ARCHIVE_RETENTION_DAYS", "14")),
        kms_key_id=env.get("KMS_KEY_ID", "alias/wildduck-local"),
        totp_issuer=env.get("TOTP_ISSUER", "WildDuck"),
        imap_host=env.get("IMAP_HOST", "imap.example.com"),
        imap_port=int(env.get("IMAP_PORT", "993")),
        imap_ssl=_flag(env.get("IMAP_SSL", "true")),
        smtp_host=env.get("SMTP_HOST", "smtp.example.com"),
        smtp_port=int(env.get("SMTP_PORT", "465")),
        smtp_ssl=_flag(env.get("SMTP_SSL", "true")),
        pop3_host=env.get("POP3_HOST", "pop3.example.com"),
        pop3_port=int(env.get("POP3_PORT", "995")),
        pop3_ssl=_flag(env.get("POP3_SSL", "true")),
        mobileconfig_sign_cert=env.get("MOBILECONFIG_SIGN_CERT", ""),
        mobileconfig_sign_key=env.get("MOBILECONFIG_SIGN_KEY", ""),
        mobileconfig_sign_chain=env.get("MOBILECONFIG_SIGN_CHAIN", ""),
        service_name=env.get("SERVICE_NAME", "WildDuck Mail"),
        user_token_ttl=int(env.get("USER_TOKEN_TTL", str(24 * 3600))),
        updates_wait_s=min(25.0, max(0.0, float(env.get("UPDATES_WAIT_S", "20")))),
        updates_poll_s=max(0.05, float(env.get("UPDATES_POLL_S", "2"))),
        updates_retry_ms=max(0, int(env.get("UPDATES_RETRY_MS", "500"))),
        websocket_endpoint=env.get("WEBSOCKET_ENDPOINT", ""),
        ses_identity=env.get("SES_IDENTITY") or env.get("DEFAULT_DOMAIN", "example.com"),
        inbound_prefix=env.get("INBOUND_PREFIX", "inbound/"),
        webhooks_allow_private=_flag(env.get("WEBHOOKS_ALLOW_PRIVATE")),
    ), env)


def _checked(config: Settings, env: Mapping[str, str]) -> Settings:
    """The settings, or ConfigurationError listing every problem at once."""
    problems: list[str] = []
    if encoded_length(config.totp_issuer) > MAX_ISSUER_BYTES:
        problems.append(f"TOTP_ISSUER must take at most {MAX_ISSUER_BYTES} bytes URL-encoded "
                        "(it is written into QR codes)")
    if not config.is_local:
        if len(config.cursor_secret) < MIN_CURSOR_SECRET:
            problems.append(f"CURSOR_SECRET must be set to a random value of at least "
                            f"{MIN_CURSOR_SECRET} characters (it signs paging cursors)")
        # Without a token every request is refused (access.check_access), so a stage
        # without one is a mistake unless it is meant to run only its scheduled jobs.
        if not config.access_token and not _flag(env.get("ALLOW_NO_ACCESS_TOKEN")):
            problems.append("ACCESS_TOKEN must be set (or ALLOW_NO_ACCESS_TOKEN=true to run "
                            "with the API closed)")
        elif config.access_token and len(config.access_token) < MIN_ACCESS_TOKEN:
            problems.append(f"ACCESS_TOKEN must be at least {MIN_ACCESS_TOKEN} characters")
    if problems:
        raise ConfigurationError(f"stage {config.stage!r} is not configured: "
                                 + "; ".join(problems))
    return config


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    settings.cache_clear()
