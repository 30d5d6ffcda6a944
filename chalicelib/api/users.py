"""Routes of /users: accounts, logout and password reset."""
from __future__ import annotations

import time
from typing import Any, Literal

from chalice import Blueprint

from chalicelib.api import responses as r
from chalicelib.api.http import RequestContext, endpoint
from chalicelib.api.idempotent import once
from chalicelib.api.paging import page_response, shaped
from chalicelib.clock import iso
from chalicelib.errors import MissingPrivileges
from chalicelib.schemas.users import (CreateUser, DeleteUser, ListUsers, Logout, ResetPassword,
                                      UpdateUser, UserRef)
from chalicelib.services import outbound, users
from chalicelib.services.authlog import Audit
from chalicelib.services.users import quota_allowed
from chalicelib.store.users import UserItem

bp = Blueprint(__name__)


@endpoint(bp, "/users", "GET", ListUsers, response=r.UserList, summary="Search and list users")
def list_users(params: ListUsers) -> dict[str, Any]:
    page = users.listing(params)
    return page_response(page, params.page, shaped(page, summary), query=params.query or "")


@endpoint(bp, "/users", "POST", CreateUser, response=r.CreatedId, summary="Create a user")
def create_user(params: CreateUser, ctx: RequestContext) -> dict[str, Any]:
    return once(ctx, "create-user", params, lambda claim: {"id": users.create(params, claim)},
                lambda result: {"id": result["id"]})


@endpoint(bp, "/users/{user}", "GET", UserRef, response=r.UserDetails, summary="Get one user")
def get_user(params: UserRef) -> dict[str, Any]:
    return details(users.get(params.user))


# Limits and account state are the operator's; a user token may change the rest.
OPERATOR_FIELDS = {"quota", "retention", "recipients", "forwards", "tags", "disabledScopes",
                   "disabled", "suspended"}
# What a token from a temporary password may send: the password change, nothing else.
PASSWORD_CHANGE_FIELDS = {"user", "password", "existingPassword", "sess", "ip"}


@endpoint(bp, "/users/{user}", "PUT", UpdateUser, response=r.Done, summary="Update a user")
def update_user(params: UpdateUser, ctx: RequestContext) -> dict[str, Any]:
    if ctx.principal is not None:
        if ctx.principal.temporary and ("password" not in params.model_fields_set or
                                        params.model_fields_set - PASSWORD_CHANGE_FIELDS):
            raise MissingPrivileges("This token may only set a new password")
        refused = sorted(OPERATOR_FIELDS & params.model_fields_set)
        if refused:
            raise MissingPrivileges(f"A user token may not change {', '.join(refused)}")
        if "password" in params.model_fields_set and params.existingPassword is None:
            raise MissingPrivileges("Changing the password with a user token needs "
                                    "existingPassword")
    users.update(params)
    return {}


@endpoint(bp, "/users/{user}", "DELETE", DeleteUser, response=r.Done, summary="Delete a user")
def delete_user(params: DeleteUser) -> dict[str, Any]:
    users.delete(params.user, Audit(params.sess, params.ip))
    return {}


@endpoint(bp, "/users/{user}/logout", "PUT", Logout, response=r.Done,
          summary="Log out all sessions of a user")
def logout_user(params: Logout) -> dict[str, Any]:
    users.logout(params.user, params.reason)
    return {}


@endpoint(bp, "/users/{user}/password/reset", "POST", ResetPassword, response=r.TemporaryPassword,
          summary="Reset the password to a temporary one")
def reset_password(params: ResetPassword) -> dict[str, Any]:
    return {"password": users.reset_password(params.user, Audit(params.sess, params.ip))}


# --------------------------------------------------------------------------- views


def summary(user: UserItem) -> dict[str, Any]:
    """The listing form of an account."""
    return {
        "id": user.id, "username": user.username, "name": user.name,
        "address": user.address, "tags": list(user.tags or []),
        "targets": [], "enabled2fa": list(user.enabled2fa or []),
        "encryptMessages": bool(user.encryptMessages),
        "encryptForwarded": bool(user.encryptForwarded),
        "quota": {"allowed": quota_allowed(user), "used": max(0, int(user.storageUsed or 0))},
        "hasPasswordSet": bool(user.hasPassword), "activated": bool(user.activated),
        "disabled": bool(user.disabled), "suspended": bool(user.suspended),
    }


def _sending(user: UserItem, limit: Literal["recipients", "forwards"],
             now: int) -> dict[str, Any]:
    counted = outbound.usage(user, limit, now)
    return {"allowed": counted.allowed, "used": counted.used,
            "ttl": counted.ttl if counted.ttl is not None else False}


def details(user: UserItem) -> dict[str, Any]:
    """The full form of an account (GET /users/{user}). Limits the account does not set
    show the configured defaults, which are what applies to it."""
    now = int(time.time())
    key_info = user.keyInfo.as_dict() if user.keyInfo else False
    return {
        "id": user.id, "username": user.username, "name": user.name,
        "address": user.address, "language": user.language,
        "retention": int(user.retention) if user.retention else False,
        "enabled2fa": list(user.enabled2fa or []),
        "encryptMessages": bool(user.encryptMessages),
        "encryptForwarded": bool(user.encryptForwarded),
        "pubKey": user.pubKey or "", "keyInfo": key_info,
        "limits": {
            "quota": {"allowed": quota_allowed(user),
                      "used": max(0, int(user.storageUsed or 0))},
            "recipients": _sending(user, "recipients", now),
            "forwards": _sending(user, "forwards", now),
        },
        "tags": list(user.tags or []), "disabledScopes": list(user.disabledScopes or []),
        "hasPasswordSet": bool(user.hasPassword),
        "requirePasswordChange": bool(user.requirePasswordChange),
        "activated": bool(user.activated), "disabled": bool(user.disabled),
        "suspended": bool(user.suspended),
        "created": iso(user.created),
    }
