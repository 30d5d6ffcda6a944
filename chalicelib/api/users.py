"""Routes of /users: accounts, logout and password reset."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from chalice import Blueprint

from chalicelib.api.http import RequestContext, endpoint
from chalicelib.api.idempotent import once
from chalicelib.api.paging import page_response, shaped
from chalicelib.clock import iso
from chalicelib.errors import MissingPrivileges
from chalicelib.metadata import loaded
from chalicelib.services import filters, outbound, quota, restore, users
from chalicelib.services.authlog import Audit
from chalicelib.services.users import LIMIT_DEFAULTS, quota_allowed
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.users import (CreateUser, DeleteUser, ListUsers, Logout,
                                          ResetAllQuotas, ResetPassword, ResolveUser, Restore,
                                          UpdateUser, UserRef)

bp = Blueprint(__name__)


@endpoint(bp, "/users", "GET", "users.ListUsers",
          response="UserList", summary="Search and list users")
def list_users(params: ListUsers) -> dict[str, Any]:
    page = users.listing(params)
    autoreplies = filters.autoreplies_on([user.id for user in page.items])

    def view(user: UserItem) -> dict[str, Any]:
        return summary(user, params.metaData, params.internalData,
                       autoreply=user.id in autoreplies)

    return page_response(page, params.page, shaped(page, view), total=users.count(params),
                         query=params.query or "")


@endpoint(bp, "/users", "POST", "users.CreateUser", response="CreatedId", summary="Create a user")
def create_user(params: CreateUser, ctx: RequestContext) -> dict[str, Any]:
    return once(ctx, "create-user", params, lambda claim: {"id": users.create(params, claim)},
                lambda result: {"id": result["id"]})


@endpoint(bp, "/users/{user}", "GET", "users.UserRef",
          response="UserDetails", summary="Get one user")
def get_user(params: UserRef, ctx: RequestContext) -> dict[str, Any]:
    # A user token reaches this as /users/me too (api/access.py puts its user in the path).
    return details(users.get(params.user), operator=ctx.principal is None)


@endpoint(bp, "/users/resolve/{username}", "GET", "users.ResolveUser", response="ResolvedUser",
          summary="Find the id of a username")
def resolve_user(params: ResolveUser) -> dict[str, Any]:
    return {"id": users.resolve(params.username)}


# Limits, account state, the operator's own data and the right to send as other
# addresses are the operator's; a user token may change the rest (forwarding targets
# and the spam level are the web mail's settings pages).
OPERATOR_FIELDS = {"quota", "retention", "recipients", "forwards", "filters", "tags",
                   "disabledScopes", "disabled", "suspended", "internalData", "disable2fa", "featureFlags",
                   "fromWhitelist", "imapMaxUpload", "imapMaxDownload", "pop3MaxDownload",
                   "pop3MaxMessages", "imapMaxConnections", "receivedMax"}
# What a token from a temporary password may send: the password change, nothing else.
# The web mail's password prompt sends `disable2fa: true` and `allowUnsafe` with it.
PASSWORD_CHANGE_FIELDS = {"user", "password", "existingPassword", "disable2fa",
                          "allowUnsafe", "sess", "ip"}


@endpoint(bp, "/users/{user}", "PUT", "users.UpdateUser", response="Done", summary="Update a user")
def update_user(params: UpdateUser, ctx: RequestContext) -> dict[str, Any]:
    if ctx.principal is not None and ctx.principal.temporary:
        if "password" not in params.model_fields_set or \
                params.model_fields_set - PASSWORD_CHANGE_FIELDS:
            raise MissingPrivileges("This token may only set a new password")
        # The token comes from a login with the temporary password (and the second
        # factor, if on), which is what existingPassword would prove while that password
        # is valid; the web mail sends none. disable2fa (the web mail sends it too) is
        # let through only where it changes nothing: the reset turned 2FA off, and one
        # enabled since stays on.
        account = users.get(params.user)
        if params.existingPassword is None and not users.has_live_temporary_password(account):
            raise MissingPrivileges("The temporary password has expired: log in again")
        if params.disable2fa and account.enabled2fa:
            raise MissingPrivileges("This token may not turn off two-factor authentication")
    elif ctx.principal is not None:
        refused = sorted(OPERATOR_FIELDS & params.model_fields_set)
        if refused:
            raise MissingPrivileges(f"A user token may not change {', '.join(refused)}")
        if "password" in params.model_fields_set and params.existingPassword is None:
            raise MissingPrivileges("Changing the password with a user token needs "
                                    "existingPassword")
    users.update(params)
    return {}


@endpoint(bp, "/users/{user}", "DELETE", "users.DeleteUser",
          response="DeletedUserTask", summary="Delete a user")
def delete_user(params: DeleteUser) -> dict[str, Any]:
    deleted = users.delete(params.user, Audit(params.sess, params.ip), params.deleteAfter)
    # WildDuck's answer: the purge task and when it may run; the account can be
    # restored until then (POST /users/{user}/restore).
    return {"code": "TaskScheduled", "user": params.user,
            "addresses": {"deleted": deleted.addresses},
            "deleteAfter": iso(deleted.delete_after * 1000), "task": deleted.task}


@endpoint(bp, "/users/{user}/logout", "PUT", "users.Logout", response="Done",
          summary="Log out all sessions of a user")
def logout_user(params: Logout) -> dict[str, Any]:
    users.logout(params.user, params.reason)
    return {}


@endpoint(bp, "/users/{user}/password/reset", "POST", "users.ResetPassword",
          response="TemporaryPassword",
          summary="Reset the password to a temporary one")
def reset_password(params: ResetPassword) -> dict[str, Any]:
    password, valid_after = users.reset_password(params.user, Audit(params.sess, params.ip),
                                                 params.validAfter or None)
    return {"password": password, "validAfter": iso(valid_after)}


@endpoint(bp, "/users/{user}/restore", "GET", "users.UserRef", response="DeletedUser",
          summary="Show what restoring a deleted user would bring back")
def restore_info(params: UserRef) -> dict[str, Any]:
    found = restore.info(params.user)
    return {**found, "deleted": iso(found["deleted"])}


@endpoint(bp, "/users/{user}/restore", "POST", "users.Restore", response="RestoredUser",
          summary="Cancel the deletion of a user within its grace period")
def restore_user(params: Restore) -> dict[str, Any]:
    return restore.restore(params.user, Audit(params.sess, params.ip))


@endpoint(bp, "/quota/reset", "POST", "users.ResetAllQuotas", response="QueuedTask",
          summary="Recount the storage used by every user, in the background")
def reset_all_quotas(params: ResetAllQuotas) -> dict[str, Any]:
    return {"task": quota.queue_reset_all()}


# --------------------------------------------------------------------------- views


def summary(user: UserItem, meta_data: bool = False, internal_data: bool = False,
            autoreply: bool = False) -> dict[str, Any]:
    """The listing form of an account; metadata only when asked (and set)."""
    result = {
        "id": user.id, "username": user.username, "name": user.name,
        "address": user.address, "tags": list(user.tags or []),
        "targets": list(user.targets or []), "enabled2fa": list(user.enabled2fa or []),
        "autoreply": autoreply,
        "encryptMessages": bool(user.encryptMessages),
        "encryptForwarded": bool(user.encryptForwarded),
        "quota": {"allowed": quota_allowed(user), "used": max(0, int(user.storageUsed or 0))},
        "hasPasswordSet": bool(user.hasPassword), "activated": bool(user.activated),
        "disabled": bool(user.disabled), "suspended": bool(user.suspended),
    }
    if meta_data and user.metaData:
        result["metaData"] = loaded(user.metaData)
    if internal_data and user.internalData:
        result["internalData"] = loaded(user.internalData)
    return result


def _counter(allowed: int) -> dict[str, Any]:
    # Usage counters of protocols this API does not serve (IMAP, POP3, MX) stay 0.
    return {"allowed": allowed, "used": 0, "ttl": False}


def sending_limit(holder: outbound.Holder, limit: Literal["recipients", "forwards"],
                  now: int) -> dict[str, Any]:
    """A daily sending limit as `limits.*` shows it, for an account or a forwarded
    address: `ttl` is false without an open window."""
    counted = outbound.usage(holder, limit, now)
    return {"allowed": counted.allowed, "used": counted.used,
            "ttl": counted.ttl if counted.ttl is not None else False}


def details(user: UserItem, operator: bool = True) -> dict[str, Any]:
    """The full form of an account (GET /users/{user}). Limits the account does not set
    show the configured defaults, which are what applies to it. `internalData` only for
    the operator."""
    now = int(time.time())
    key_info = user.keyInfo.as_dict() if user.keyInfo else False
    filtering = filters.account_filters(user)

    def limit(name: str) -> int:
        return int(getattr(user, name) or 0) or LIMIT_DEFAULTS[name]

    result = {
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
            "recipients": sending_limit(user, "recipients", now),
            "forwards": sending_limit(user, "forwards", now),
            "received": _counter(limit("receivedMax")),
            "imapUpload": _counter(limit("imapMaxUpload")),
            "imapDownload": _counter(limit("imapMaxDownload")),
            "pop3Download": _counter(limit("pop3MaxDownload")),
            "pop3MaxMessages": {"allowed": limit("pop3MaxMessages")},
            "imapMaxConnections": {"allowed": limit("imapMaxConnections"), "used": 0},
            "filters": {"allowed": filtering.allowed, "used": filtering.used},
        },
        "autoreply": filtering.autoreply,
        "tags": list(user.tags or []), "disabledScopes": list(user.disabledScopes or []),
        "hasPasswordSet": bool(user.hasPassword),
        "requirePasswordChange": bool(user.requirePasswordChange),
        "activated": bool(user.activated), "disabled": bool(user.disabled),
        "suspended": bool(user.suspended),
        "created": iso(user.created),
        "targets": list(user.targets or []),
        "spamLevel": int(user.spamLevel if user.spamLevel is not None
                         else users.DEFAULT_SPAM_LEVEL),
        "uploadSentMessages": bool(user.uploadSentMessages),
        "fromWhitelist": list(user.fromWhitelist or []),
        "featureFlags": {flag: True for flag in user.featureFlags or []},
        "metaData": loaded(user.metaData),
    }
    if operator:
        result["internalData"] = loaded(user.internalData)
    return result
