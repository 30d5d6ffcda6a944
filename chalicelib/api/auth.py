"""Routes of /authenticate and the authentication log."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import RequestContext, endpoint
from chalicelib.api.paging import page_response, shaped
from chalicelib.clock import iso
from chalicelib.errors import InvalidToken
from chalicelib.services import auth, authlog, tokens, users
from chalicelib.store.authlog import AuthlogItem

if TYPE_CHECKING:
    from chalicelib.schemas.auth import (Authenticate, AuthlogEvent, AuthlogQuery, Preauth,
                                         RevokeToken)

bp = Blueprint(__name__)


@endpoint(bp, "/authenticate", "POST", "auth.Authenticate", response="Authenticated",
          summary="Authenticate a user")
def authenticate(params: Authenticate) -> dict[str, Any]:
    return authenticated(auth.authenticate(params))


@endpoint(bp, "/preauth", "POST", "auth.Preauth", response="Preauthenticated",
          summary="Check that a username may authenticate, without a password")
def preauth(params: Preauth) -> dict[str, Any]:
    user, require2fa = auth.preauth(params.username, params.scope)
    return {"id": user.id, "username": user.username, "address": user.address,
            "scope": params.scope, "require2fa": require2fa or False}


@endpoint(bp, "/authenticate", "DELETE", "auth.RevokeToken", response="Done",
          summary="Revoke the user token this request is made with")
def revoke_token(params: RevokeToken, ctx: RequestContext) -> dict[str, Any]:
    if not isinstance(ctx.principal, tokens.UserToken):
        raise InvalidToken("This request does not carry a user token")
    tokens.revoke(ctx.principal)
    return {}


@endpoint(bp, "/users/{user}/authlog", "GET", "auth.AuthlogQuery", response="AuthlogList",
          summary="List the authentication log, newest first")
def list_authlog(params: AuthlogQuery) -> dict[str, Any]:
    users.get(params.user)  # the log outlives a deleted account until the purge
    # The contract filters on `ip`; today's server on `filterIp`, and its clients send
    # their own address as `ip` beside it, so `filterIp`, when given, is the only filter.
    ip = params.filterIp or params.ip
    page = authlog.listing(params.user, limit=params.limit, next_cursor=params.next,
                           previous_cursor=params.previous, action=params.action,
                           sess=params.sess, ip=ip)
    total = authlog.count(params.user, action=params.action, sess=params.sess, ip=ip)
    # WildDuck echoes the `action` filter, when one is given.
    extra = {"action": params.action} if params.action else {}
    return page_response(page, params.page, shaped(page, authlog_entry), total=total, **extra)


@endpoint(bp, "/users/{user}/authlog/{event}", "GET", "auth.AuthlogEvent",
          response="AuthlogEvent", summary="Get one entry of the authentication log")
def get_authlog_event(params: AuthlogEvent) -> dict[str, Any]:
    users.get(params.user)
    return authlog_entry(authlog.get(params.user, params.event))


# --------------------------------------------------------------------------- views


def authlog_entry(item: AuthlogItem) -> dict[str, object]:
    result: dict[str, object] = {"id": item.id, "action": item.action}
    for name in ("result", "source", "protocol", "scope", "asp", "aname", "target", "sess",
                 "ip"):
        value = getattr(item, name)
        if value is not None:
            result[name] = value
    if item.scope is not None:
        result["requiredScope"] = item.scope
    # Today's server folds repeats of one event into an entry with a count and the time
    # of the last one; here every attempt is its own entry.
    result["created"] = result["last"] = iso(item.created)
    result["events"] = 1
    result["expires"] = iso(item.expires * 1000)
    return result


def authenticated(result: auth.Authenticated) -> dict[str, Any]:
    user = result.user
    answer: dict[str, Any] = {
        "id": user.id, "username": user.username, "address": user.address,
        "scope": result.scope, "require2fa": result.require2fa or False,
        "requirePasswordChange": result.require_password_change,
    }
    if result.token is not None:
        answer["token"] = result.token
    return answer
