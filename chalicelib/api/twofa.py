"""Routes of /users/{user}/2fa: TOTP setup, enable, check and disable."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import RequestContext, endpoint
from chalicelib.services import tokens, totp
from chalicelib.services.authlog import Audit

if TYPE_CHECKING:
    from chalicelib.schemas.twofa import TotpSetup, TotpVerify, TwoFactorRef

bp = Blueprint(__name__)


@endpoint(bp, "/users/{user}/2fa/totp/setup", "POST", "twofa.TotpSetup",
          response="TotpProvisioning",
          summary="Generate a TOTP seed to enable 2FA with")
def setup_totp(params: TotpSetup) -> dict[str, Any]:
    provisioning = totp.setup(params.user, issuer=params.issuer, label=params.label,
                              fresh=params.fresh)
    return {"qrcode": provisioning.qrcode, "seed": provisioning.seed}


@endpoint(bp, "/users/{user}/2fa/totp/enable", "POST", "twofa.TotpVerify", response="Done",
          summary="Enable TOTP 2FA with a token from the set-up seed")
def enable_totp(params: TotpVerify) -> dict[str, Any]:
    totp.enable(params.user, params.token, Audit(params.sess, params.ip))
    return {}


@endpoint(bp, "/users/{user}/2fa/totp/check", "POST", "twofa.TotpVerify", response="Done",
          summary="Validate a TOTP token (each token is accepted once)")
def check_totp(params: TotpVerify, ctx: RequestContext) -> dict[str, Any]:
    totp.check(params.user, params.token, Audit(params.sess, params.ip))
    if ctx.principal is not None:
        tokens.complete_2fa(ctx.principal)
    return {}


@endpoint(bp, "/users/{user}/2fa/totp", "DELETE", "twofa.TwoFactorRef", response="Done",
          summary="Disable TOTP 2FA")
def disable_totp(params: TwoFactorRef) -> dict[str, Any]:
    totp.disable(params.user, Audit(params.sess, params.ip))
    return {}


@endpoint(bp, "/users/{user}/2fa", "DELETE", "twofa.TwoFactorRef", response="Done",
          summary="Disable every 2FA method")
def disable_2fa(params: TwoFactorRef) -> dict[str, Any]:
    totp.disable_all(params.user, Audit(params.sess, params.ip))
    return {}
