"""Who may call the API: the deployment's access token, or a user's own token.

Local stage: open unless ACCESS_TOKEN is set (it listens on loopback only).
Deployed stages: fail closed; without a configured token every request is refused.

A presented token that is not the deployment's is taken for a user token (issued by
/authenticate with `token: true`), on every stage: it may reach only that user's own
`/users/{user}/...` routes (`me` in place of the id names the token's user, as in
WildDuck) and `DELETE /authenticate`. On those, the request context gets the principal
(`tokens.UserToken`) for the handler.
"""
from __future__ import annotations

import hmac
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import InvalidToken, MissingPrivileges, ServiceUnavailable
from chalicelib.services import tokens

USER_ROUTES = "/users/{user}"

# What only the operator may do, even on a user's own routes: a user token belongs to
# someone who knows the password, not to the administrator of the account.
OPERATOR_ONLY = {
    ("DELETE", "/users/{user}"),
    ("POST", "/users/{user}/password/reset"),
    ("POST", "/users/{user}/quota/reset"),
}
# All a token issued before the second factor was checked may do: check it, log out,
# and the reads a web mail makes before it shows the code prompt (the account, to see
# that 2FA is on and greet its owner, and the folder list it keeps in the session).
# Never message content and never a write: the trade-off is in docs/architecture.md,
# "Account security".
PENDING_2FA_ALLOWED = {
    ("POST", "/users/{user}/2fa/totp/check"),
    ("DELETE", "/authenticate"),
    ("GET", USER_ROUTES),
    ("GET", "/users/{user}/mailboxes"),
    ("GET", "/users/{user}/mailboxes/resolve"),
}
# All a token issued for a temporary password (after a reset) may do: show the account
# (which says requirePasswordChange), set the new password (api/users.update_user
# allows nothing else through PUT), log out, and the same folder reads as a pending
# token: the web mail lists the folders at login and resolves INBOX on every page, the
# password prompt included, and ends the session when either fails.
TEMPORARY_ALLOWED = {
    ("GET", USER_ROUTES),
    ("PUT", USER_ROUTES),
    ("DELETE", "/authenticate"),
    ("GET", "/users/{user}/mailboxes"),
    ("GET", "/users/{user}/mailboxes/resolve"),
}


def presented_token(request: Any) -> str | None:
    query = request.query_params or {}
    headers = request.headers or {}
    if query.get("accessToken"):
        return str(query["accessToken"])
    if headers.get("x-access-token"):
        return str(headers["x-access-token"])
    authorization = headers.get("authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def check_access(request: Any) -> None:
    """Raise a domain error unless the request may proceed."""
    config = settings()
    expected = config.access_token
    if not expected and not config.is_local:
        raise ServiceUnavailable("ACCESS_TOKEN is not configured for this stage")
    token = presented_token(request)
    if token is None:
        if expected:
            raise InvalidToken()
        return
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    request.context["principal"] = _user_principal(request, token)


def websocket_principal(token: str | None) -> str:
    """Who opens a websocket: `*` for the deployment token (or nobody, on an open local
    stage), else the user id of a live user token, which may follow only its account."""
    config = settings()
    expected = config.access_token
    if not expected and not config.is_local:
        raise ServiceUnavailable("ACCESS_TOKEN is not configured for this stage")
    if token is None:
        if expected:
            raise InvalidToken()
        return "*"
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return "*"
    if not tokens.looks_like_token(token):
        raise InvalidToken()
    principal = tokens.identify(token)
    if principal.pending_2fa:
        raise MissingPrivileges("Check the second factor with this token first")
    if principal.temporary:
        raise MissingPrivileges("Set a new password with this token first")
    return principal.user


def _user_principal(request: Any, token: str) -> tokens.UserToken:
    if not tokens.looks_like_token(token):
        raise InvalidToken()
    context = request.context or {}
    route = str(context.get("resourcePath") or "")
    path_user = str((request.uri_params or {}).get("user") or "").lower()
    call = (request.method, route)
    if path_user == "me" and (route == USER_ROUTES or route.startswith(USER_ROUTES + "/")):
        principal = tokens.identify(token)
        request.uri_params["user"] = principal.user  # the handler sees the real id
    elif path_user and (route == USER_ROUTES or route.startswith(USER_ROUTES + "/")):
        principal = tokens.authorize(token, path_user)
    elif call == ("DELETE", "/authenticate"):
        principal = tokens.identify(token)
    else:
        raise MissingPrivileges()
    if principal.pending_2fa and call not in PENDING_2FA_ALLOWED:
        raise MissingPrivileges("Check the second factor with this token first")
    if principal.temporary and call not in TEMPORARY_ALLOWED:
        raise MissingPrivileges("Set a new password with this token first")
    if call in OPERATOR_ONLY:
        raise MissingPrivileges("Only the API operator may do this")
    return principal
