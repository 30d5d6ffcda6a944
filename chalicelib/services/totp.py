"""TOTP second factor: setup, enable, check, disable.

A seed is encrypted with KMS before it is stored (`users.totp.seed`) and decrypted only
to verify a token; its plaintext leaves the service only in the answer to setup. Until
enabled, the stored seed is "pending" and usable for enabling for 6 hours.

A check costs 1 GetItem (the user, which also carries the rate-limit lock), 1 KMS
Decrypt and 1 TransactWriteItems that claims the matched time step (the replay guard,
a conditional put) together with the authlog entry, so a token is accepted at most once
and every accepted check is logged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.clock import now_ms
from chalicelib.config import settings
from chalicelib.errors import (InvalidToken, InvalidVerificationToken, TotpDisabled,
                               TotpEnabled)
from chalicelib.security import totp as otp
from chalicelib.services import authlog, ratelimit, users
from chalicelib.services.authlog import Audit
from chalicelib.store import keys, secrets
from chalicelib.store.transact import Transaction, run
from chalicelib.store.users import UserItem

METHOD = "totp"
PENDING_MS = 6 * 3600 * 1000
WINDOW = 1  # steps accepted on either side of the current one (clock drift)
STEP_SECONDS = 30


@dataclass(frozen=True)
class Provisioning:
    """What the user needs to add the account to an authenticator app."""

    seed: str
    qrcode: str


def _context(user_id: str) -> dict[str, str]:
    return {"user": user_id, "purpose": "totp"}


def _stored(user: UserItem) -> dict[str, Any] | None:
    return user.totp.as_dict() if user.totp else None


def _pending(user: UserItem) -> dict[str, Any] | None:
    """The seed waiting to be enabled, if it is young enough to be used."""
    stored = _stored(user)
    if METHOD in (user.enabled2fa or []) or not stored:
        return None
    return stored if stored.get("created", 0) > now_ms() - PENDING_MS else None


def _guard_expiry(step: int) -> int:
    """A step stays acceptable until the window has moved past it (plus clock slack)."""
    return (step + WINDOW + 2) * STEP_SECONDS


def setup(user_id: str, *, issuer: str | None, label: str | None, fresh: bool) -> Provisioning:
    user = users.get(user_id)
    if METHOD in (user.enabled2fa or []):
        raise TotpEnabled()
    pending = _pending(user)
    if pending and not fresh:
        seed = secrets.decrypt(pending["seed"], _context(user_id))
    else:
        seed = otp.new_seed()
        stored = {"seed": secrets.encrypt(seed, _context(user_id)), "created": now_ms()}
        try:
            user.update(actions=[UserItem.totp.set(stored)],
                        condition=UserItem.kind.exists() & ~UserItem.enabled2fa.contains(METHOD))
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            users.get(user_id)  # UserNotFound if it was deleted meanwhile
            raise TotpEnabled() from None
    uri = otp.otpauth_uri(seed, label or user.username, issuer or settings().totp_issuer)
    return Provisioning(seed=seed, qrcode=otp.qr_data_url(uri))


def enable(user_id: str, token: str, audit: Audit) -> None:
    user = users.get(user_id)
    if METHOD in (user.enabled2fa or []):
        raise TotpEnabled()
    pending = _pending(user)
    if pending is None:
        raise TotpDisabled("TOTP setup has not been started or has expired")
    seed = secrets.decrypt(pending["seed"], _context(user_id))
    # Enabling proves the app holds the seed; it does not claim the step, so the same
    # token may still pass the first check that follows.
    if otp.verify_totp(seed, token, window=WINDOW) is None:
        raise InvalidVerificationToken()

    def build(tx: Transaction) -> None:
        tx.update(user, actions=[UserItem.enabled2fa.set([*(user.enabled2fa or []), METHOD])],
                  condition=UserItem.kind.exists() & ~UserItem.enabled2fa.contains(METHOD)
                  & (UserItem.totp["seed"] == pending["seed"]), label="user")
        tx.save(authlog.entry(user_id, "enable 2fa totp", audit, result="success"))

    def changed_meanwhile() -> Exception:  # deleted, enabled or set up again
        users.get(user_id)
        return TotpDisabled("TOTP setup changed meanwhile, start again")

    run(build, errors={"user": changed_meanwhile})


class _Replayed(Exception):
    """The token's step was already used."""


def check(user_id: str, token: str, audit: Audit) -> None:
    user = users.get(user_id)
    ratelimit.ensure_allowed(user, ratelimit.TOTP_CHECK)
    stored = _stored(user)
    if METHOD not in (user.enabled2fa or []) or not stored:
        raise TotpDisabled()
    seed = secrets.decrypt(stored["seed"], _context(user_id))
    step = otp.verify_totp(seed, token, window=WINDOW)
    if step is not None:
        def build(tx: Transaction) -> None:
            keys.guard_totp_step(tx, user_id, step, _guard_expiry(step))
            tx.save(authlog.entry(user_id, "check 2fa totp", audit, result="success"))

        try:
            run(build, errors={"replay": _Replayed})
            return
        except _Replayed:
            pass
    ratelimit.record_failure(user_id, ratelimit.TOTP_CHECK)
    authlog.record(user_id, "check 2fa totp", audit, result="fail")
    raise InvalidToken("Failed to validate TOTP token")


def disable(user_id: str, audit: Audit) -> None:
    """Turn TOTP off (and forget a pending seed); other 2FA methods stay."""
    def build(tx: Transaction) -> None:
        user = users.get(user_id)
        methods = list(user.enabled2fa or [])
        if METHOD not in methods and not user.totp:
            raise TotpDisabled()
        tx.update(user, actions=[UserItem.enabled2fa.set([m for m in methods if m != METHOD]),
                                 UserItem.totp.remove()],
                  condition=UserItem.kind.exists() & (UserItem.enabled2fa == methods),
                  label="user")
        tx.save(authlog.entry(user_id, "disable 2fa totp", audit, result="success"))

    run(build)


def disable_all(user_id: str, audit: Audit) -> None:
    """Turn every 2FA method off: the master password works for every scope again."""
    actions = [UserItem.enabled2fa.set([]), UserItem.totp.remove()]
    users.update_logged(users.get(user_id), actions,
                        [authlog.entry(user_id, "disable 2fa", audit, result="success")])
