"""WildDuck routes this API deliberately does not offer, answered 501 `NotSupported`
with the reason, so that a client learns why instead of meeting a bare 404
(docs/compatibility.md, "Out of scope"). They are left out of the OpenAPI document,
which describes what the API does."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint, Response

from chalicelib.api.http import respond
from chalicelib.errors import NotSupported

bp = Blueprint(__name__)

CERTS = ("TLS certificates are managed outside this API (API Gateway and SES terminate "
         "TLS)")
DKIM = "DKIM keys are not managed here: SES signs outbound mail with its own DKIM keys"
STORAGE = "Storage files are not offered; upload attachments with the message instead"
WEBAUTHN = "WebAuthn is not offered yet; use TOTP as the second factor"
OUTBOUND = ("There is no outbound queue to cancel from: SES accepts a submission at once "
            "and sends it")
DATA = "Account export and import in WildDuck's archive format are not offered"
CUSTOM_2FA = "A second factor handled outside this API is not offered; TOTP is the second factor"

ROUTES: list[tuple[str, tuple[str, ...], str]] = [
    ("/certs", ("GET", "POST"), CERTS),
    ("/certs/resolve/{servername}", ("GET",), CERTS),
    ("/certs/{cert}", ("GET", "DELETE"), CERTS),
    ("/dkim", ("GET", "POST"), DKIM),
    ("/dkim/resolve/{domain}", ("GET",), DKIM),
    ("/dkim/{dkim}", ("GET", "DELETE"), DKIM),
    ("/users/{user}/storage", ("GET", "POST"), STORAGE),
    ("/users/{user}/storage/{file}", ("GET", "DELETE"), STORAGE),
    ("/users/{user}/2fa/webauthn/credentials", ("GET",), WEBAUTHN),
    ("/users/{user}/2fa/webauthn/credentials/{credential}", ("DELETE",), WEBAUTHN),
    ("/users/{user}/2fa/webauthn/registration-challenge", ("POST",), WEBAUTHN),
    ("/users/{user}/2fa/webauthn/registration-attestation", ("POST",), WEBAUTHN),
    ("/users/{user}/2fa/webauthn/authentication-challenge", ("POST",), WEBAUTHN),
    ("/users/{user}/2fa/webauthn/authentication-assertion", ("POST",), WEBAUTHN),
    ("/users/{user}/outbound/{queueId}", ("DELETE",), OUTBOUND),
    ("/data/export", ("POST",), DATA),
    ("/data/import", ("POST",), DATA),
    ("/users/{user}/2fa/custom", ("PUT", "DELETE"), CUSTOM_2FA),
]


def _refusal(reason: str, number: int) -> Callable[..., Response]:
    def refuse(_ctx: Any) -> Any:
        raise NotSupported(reason)

    def view(**_path: str) -> Response:
        # Through the access check like any route: a stranger learns nothing more.
        return respond(bp.current_request, refuse)

    view.__name__ = f"not_supported_{number}"  # view names stay unique
    return view


for _number, (_path, _methods, _reason) in enumerate(ROUTES):
    bp.route(_path, methods=list(_methods), content_types=["*/*"])(_refusal(_reason, _number))
