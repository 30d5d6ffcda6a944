"""Typed domain errors. Each carries the HTTP status and the stable `code` clients see.

Services raise these; the HTTP edge turns them into `{error, code}` responses. A new
failure mode gets a new subclass here rather than an ad-hoc status at a route.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "BadRequest"
    default_message = "Bad request"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}


class InputValidationError(DomainError):
    code = "InputValidationError"
    default_message = "Invalid input"

    def __init__(self, details: dict[str, str], message: str | None = None) -> None:
        first = next(iter(details.values()), None)
        super().__init__(message or first or self.default_message, details=details)


class NotFound(DomainError):
    status = 404


class UserNotFound(NotFound):
    code, default_message = "UserNotFound", "This user does not exist"


class NoSuchMailbox(NotFound):
    code, default_message = "NoSuchMailbox", "This mailbox does not exist"


class MessageNotFound(NotFound):
    code, default_message = "MessageNotFound", "This message does not exist"


class AttachmentNotFound(NotFound):
    code, default_message = "AttachmentNotFound", "This attachment does not exist"


class AddressNotFound(NotFound):
    code, default_message = "AddressNotFound", "This address does not exist"


class FilterNotFound(NotFound):
    code, default_message = "FilterNotFound", "This filter does not exist"


class AspNotFound(NotFound):
    code, default_message = "AspNotFound", "This application password does not exist"


class AccountNotFound(NotFound):
    code, default_message = "AccountNotFound", "Deleted account was not found"


class EventNotFound(NotFound):
    code, default_message = "EventNotFound", "Event was not found"


class DeleteInProgress(DomainError):
    code, default_message = "DeleteInProgress", "Deletion already in progress"


class AliasNotFound(NotFound):
    code, default_message = "AliasNotFound", "This alias does not exist"


class AliasExists(DomainError):
    code, default_message = "AliasExists", "This domain alias already exists"


class UserExistsError(DomainError):
    code, default_message = "UserExistsError", "This username already exists"


class AddressExistsError(DomainError):
    code, default_message = "AddressExistsError", "This address already exists"


class ChangeNotAllowed(DomainError):
    code, default_message = "ChangeNotAllowed", "Can not change special address"


class MailboxExistsError(DomainError):
    code, default_message = "MailboxExistsError", "Mailbox already exists"


class DisallowedMailboxMethod(DomainError):
    code, default_message = "DisallowedMailboxMethod", "This mailbox can not be changed"


class NotPermitted(DomainError):
    code, default_message = "NotPermitted", "This operation is not permitted"


class OverQuotaError(DomainError):
    code, default_message = "OverQuotaError", "User is over quota"


class TotpEnabled(DomainError):
    code, default_message = "TotpEnabled", "TOTP 2FA is already enabled for this user"


class TotpDisabled(DomainError):
    code, default_message = "TotpDisabled", "TOTP 2FA is not enabled for this user"


class InvalidVerificationToken(DomainError):
    """A wrong TOTP token while enabling 2FA: bad input (400), unlike a failed check (403)."""

    code, default_message = "InvalidToken", "Invalid verification token"


class ProfileScopeError(DomainError):
    """A configuration profile asked for a password that may not read and send mail:
    bad input (400), with the code WildDuck answers it with."""

    code, default_message = ("InvalidAuthScope",
                             "A profile needs a password with the imap or pop3 scope and smtp")


class Forbidden(DomainError):
    status = 403


class AuthFailed(Forbidden):
    code, default_message = "AuthFailed", "Authentication failed"


class TempPasswordNotYetValid(Forbidden):
    code, default_message = "TempPasswordNotYetValid", "Temporary password is not yet activated"


class InvalidAuthScope(Forbidden):
    code, default_message = "InvalidAuthScope", "Authentication scope is not allowed"


class InvalidToken(Forbidden):
    code, default_message = "InvalidToken", "Invalid or missing access token"


class MissingPrivileges(Forbidden):
    code, default_message = "MissingPrivileges", "This token may not access this resource"


class TooMany(Forbidden):
    code, default_message = "TooMany", "Limit reached"


class RateLimitedError(Forbidden):
    code, default_message = "RateLimitedError", "Too many attempts, try again later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class UserDisabled(Forbidden):
    code, default_message = "UserDisabled", "User account is disabled"


class SendingLimitReached(RateLimitedError):
    """A daily sending limit (`recipients` or `forwards`) is used up: WildDuck's code
    and status (403 RateLimitedError) with the seconds until the window closes."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(retry_after, "You reached a daily sending limit for your account. "
                                      f"Limit expires in {_human(retry_after)}")
        self.limit = limit


def _human(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    if seconds < 3600:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


class MessageNotDraft(DomainError):
    code, default_message = "MessageNotDraft", "This message is not a draft"


class MessageRejected(DomainError):
    """SES refused the message itself (an unverified sender, content, size): nothing was
    sent, and sending it again unchanged would be refused again."""

    code, default_message = "MessageRejected", "The message was rejected for delivery"


class Conflict(DomainError):
    """A concurrent change won a race that retries could not settle."""

    status = 409
    code, default_message = "ConcurrentUpdate", "The resource changed concurrently, retry"


class ServiceUnavailable(DomainError):
    status = 503
    code, default_message = "ServiceUnavailable", "The service is not configured"


class SendingUnavailable(ServiceUnavailable):
    code, default_message = ("SendingUnavailable",
                             "The message could not be handed to the mail service; retry")


# Answers of the HTTP edge itself, before any route runs: same {error, code} shape.

class NotSupported(DomainError):
    """A WildDuck route this API deliberately does not offer (docs/compatibility.md)."""

    status = 501
    code, default_message = "NotSupported", "This API does not offer this feature"


class RouteNotFound(NotFound):
    code, default_message = "RouteNotFound", "No such route"


class MethodNotAllowed(DomainError):
    status = 405
    code, default_message = "MethodNotAllowed", "This method is not allowed on this route"

    def __init__(self, method: str, allowed: list[str]) -> None:
        super().__init__(f"Method {method} is not allowed here; use {', '.join(allowed)}")
        self.headers["Allow"] = ", ".join(allowed)


class UnsupportedMediaType(DomainError):
    status = 415
    code, default_message = "UnsupportedMediaType", "Unsupported request content type"
