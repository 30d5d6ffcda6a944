"""Models of the success answers, one per route shape, for the OpenAPI document.

They mirror what the routes' view functions build (`api/users.details`,
`api/message_views.summary`, ...) and are closed (`additionalProperties: false`), so the fuzzer's
response-schema check catches a field added without being documented, or a documented
one that changed type. Nothing validates answers with them at run time: they cost
nothing per request.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[0-9a-f]{24}$"

Id = Annotated[str, Field(pattern=ID_PATTERN, description="24-hex id")]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Cursor = Annotated[str | Literal[False], Field(description="Opaque cursor, false at the edge")]
Uid = Annotated[int, Field(ge=1, lt=2**32, description="Message uid within its mailbox")]
AttachmentId = Annotated[str, Field(pattern=r"^ATT\d{5,8}$")]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Answer(Closed):
    """Every JSON success answer carries `success: true`."""

    success: Literal[True]


class Done(Answer):
    """The change was made; nothing else to report."""


class CreatedId(Answer):
    id: Id


class DomainRenamed(Answer):
    modifiedAddresses: int
    modifiedUsers: int = Field(description="Accounts whose main address moved")
    modifiedDkim: int = Field(description="Always 0: SES holds the DKIM keys")
    modifiedAliases: int = Field(description="Domain aliases now pointing at the new domain")


class Paged(Answer):
    total: int
    page: int
    previousCursor: Cursor
    nextCursor: Cursor


# Users

class Quota(Closed):
    allowed: int
    used: int


class Limit(Closed):
    allowed: int
    used: int
    ttl: int | Literal[False]


class Allowed(Closed):
    allowed: int


class Limits(Closed):
    quota: Quota
    recipients: Limit
    forwards: Limit
    received: Limit
    imapUpload: Limit
    imapDownload: Limit
    pop3Download: Limit
    pop3MaxMessages: Allowed
    imapMaxConnections: Quota
    filters: Quota


class KeyInfo(Closed):
    name: str | None
    address: str | None
    fingerprint: str


class UserSummary(Closed):
    id: Id
    username: str
    name: str | None
    address: str | None
    tags: list[str]
    targets: list[str]
    enabled2fa: list[str]
    autoreply: bool = Field(description="The autoreply is switched on (its dates aside)")
    encryptMessages: bool
    encryptForwarded: bool
    quota: Quota
    hasPasswordSet: bool
    activated: bool
    disabled: bool
    suspended: bool
    metaData: dict[str, Any] = Field(None, description="Only when asked with `metaData`")
    internalData: dict[str, Any] = Field(
        None, description="Only when asked with `internalData`, with the operator token")


class UserList(Paged):
    query: str
    results: list[UserSummary]


class UserDetails(Answer):
    id: Id
    username: str
    name: str | None
    address: str | None
    language: str | None
    retention: int | Literal[False]
    enabled2fa: list[str]
    encryptMessages: bool
    encryptForwarded: bool
    pubKey: str
    keyInfo: KeyInfo | Literal[False]
    limits: Limits
    autoreply: bool = Field(description="The autoreply is switched on")
    tags: list[str]
    disabledScopes: list[str]
    hasPasswordSet: bool
    requirePasswordChange: bool
    activated: bool
    disabled: bool
    suspended: bool
    created: Timestamp
    targets: list[str]
    spamLevel: int
    uploadSentMessages: bool
    fromWhitelist: list[str]
    featureFlags: dict[str, bool]
    metaData: dict[str, Any]
    internalData: dict[str, Any] = Field(None, description="With the operator token only")


class ResolvedUser(Answer):
    id: Id


class DeletedAddresses(Closed):
    deleted: int = Field(description="Addresses freed with the account")


class DeletedUserTask(Answer):
    code: Literal["TaskScheduled"]
    user: Id
    addresses: DeletedAddresses
    deleteAfter: Timestamp = Field(description="When the purge may run; restorable until then")
    task: Id = Field(description="The purge task")


class DeletedUser(Answer):
    user: Id
    username: str
    storageUsed: int
    tags: list[str]
    deleted: Timestamp
    recoverableAddresses: list[str]


class RestoredAddresses(Closed):
    recovered: int
    main: str = Field(None, description="The main address, when one was recovered")


class RestoredUser(Answer):
    code: str
    user: Id
    task: Id = Field(None, description="The deletion task that was cancelled")
    addresses: RestoredAddresses


class QueuedTask(Answer):
    task: Id


class TemporaryPassword(Answer):
    password: str
    validAfter: Timestamp = Field(description="From when the password is valid: now")


# Authentication, 2FA, application passwords

class Authenticated(Answer):
    id: Id
    username: str
    address: str | None
    scope: str
    require2fa: list[str] | Literal[False]
    requirePasswordChange: bool
    token: str = Field(None, description="Only when `token: true` was asked")


class AuthlogEntry(Closed):
    id: Id
    action: str
    # Present when known: absent rather than null.
    result: str = Field(None)
    source: str = Field(None)
    protocol: str = Field(None)
    scope: str = Field(None)
    requiredScope: str = Field(None, description="`scope` under today's server's name")
    asp: str = Field(None)
    aname: str = Field(None, description="The application password's description")
    target: str = Field(None, description="`user forward added`: the new forwarding target")
    sess: str = Field(None)
    ip: str = Field(None)
    created: Timestamp
    last: Timestamp = Field(description="Every attempt is its own entry: `created`")
    events: Literal[1] = Field(description="Every attempt is its own entry: 1")
    expires: Timestamp


class AuthlogEvent(Answer, AuthlogEntry):
    pass


class Preauthenticated(Answer):
    id: Id
    username: str
    address: str | None
    scope: str
    require2fa: list[str] | Literal[False]


class AuthlogList(Paged):
    action: str = Field(None, description="The `action` filter, when given")
    results: list[AuthlogEntry]


class TotpProvisioning(Answer):
    qrcode: str = Field(description="data: URL of a PNG QR code")
    seed: str


class AspLastUse(Closed):
    time: Timestamp | Literal[False]
    event: Id | Literal[False]


class Asp(Closed):
    id: Id
    description: str
    scopes: list[str] = Field(description="\"*\" (every scope) is listed as imap, pop3, smtp")
    lastUse: AspLastUse
    created: Timestamp
    expires: Timestamp | Literal[False]


class AspDetails(Answer, Asp):
    pass


class AspList(Answer):
    results: list[Asp]


class AspCreated(Answer):
    id: Id
    password: str
    mobileconfig: str = Field(None, description="Only when generateMobileconfig was set")
    name: str = Field(None, description="With mobileconfig: the profile's account name")
    address: str = Field(None, description="With mobileconfig: the profile's account address")


# Addresses

class AddressSearchResult(Closed):
    id: Id
    name: str | Literal[False] = Field(description="false when the address has no name")
    address: str
    user: Id | None = Field(description="null for a forwarded address")
    forwarded: bool
    forwardedDisabled: bool
    targets: list[str] = Field(None, description="Forwarded addresses only")
    tags: list[str]
    metaData: dict[str, Any] = Field(None, description="Only when asked with `metaData`")
    internalData: dict[str, Any] = Field(
        None, description="Only when asked with `internalData`, with the operator token")


class AddressSearch(Paged):
    query: str
    results: list[AddressSearchResult]


class ResolvedAddress(Answer):
    id: Id
    address: str
    user: Id
    tags: list[str] = Field(None)
    created: Timestamp = Field(None)
    metaData: dict[str, Any] = Field(None, description="When set")
    internalData: dict[str, Any] = Field(None, description="When set; operator token only")


class RegisteredAddress(Closed):
    id: Id
    name: str | Literal[False]
    address: str


class AddressRegister(Answer):
    results: list[RegisteredAddress]


class ForwardLimits(Closed):
    forwards: Limit


class AutoreplyStatus(Closed):
    """A forwarded address's autoreply: `{status: false}` until one is set."""

    status: bool
    name: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    start: Timestamp | Literal[False] | None = None
    end: Timestamp | Literal[False] | None = None


class ForwardedAddress(Answer):
    id: Id
    name: str | Literal[False] = Field(
        description="No name: false from GET /addresses/forwarded/{id}, \"\" when resolved")
    address: str
    targets: list[str]
    limits: ForwardLimits
    autoreply: AutoreplyStatus
    forwardedDisabled: bool
    tags: list[str]
    created: Timestamp
    metaData: dict[str, Any] = Field(None, description="When set")
    internalData: dict[str, Any] = Field(None, description="When set, operator token only")


class DomainAliasSummary(Closed):
    id: Id
    alias: str
    domain: str


class DomainAliasList(Paged):
    query: str
    results: list[DomainAliasSummary]


class DomainAlias(Answer, DomainAliasSummary):
    created: Timestamp


class UserAddress(Closed):
    id: Id
    name: str | Literal[False] = Field(description="false when the address has no name")
    address: str
    main: bool
    tags: list[str]
    metaData: dict[str, Any] = Field(None, description="When set (in listings: when asked)")
    internalData: dict[str, Any] = Field(
        None, description="When set (in listings: when asked), with the operator token only")
    created: Timestamp


class UserAddressDetails(Answer, UserAddress):
    pass


class UserAddressList(Answer):
    results: list[UserAddress]


# Mailboxes

class Mailbox(Closed):
    id: Id
    name: str
    path: str
    specialUse: str | None
    modifyIndex: int
    subscribed: bool
    hidden: bool
    encryptMessages: bool
    retention: int = Field(None, description="Milliseconds; only when the mailbox has one")
    total: int = Field(None, description="With counters=true")
    unseen: int = Field(None, description="With counters=true")
    size: int = Field(None, description="With sizes=true or counters=true")


class MailboxList(Answer):
    results: list[Mailbox]


class MailboxDetails(Answer):
    id: Id
    name: str
    path: str
    specialUse: str | None
    modifyIndex: int
    subscribed: bool
    hidden: bool
    encryptMessages: bool
    total: int
    unseen: int
    size: int
    uidNext: int
    retention: int | Literal[False]


# Messages

class MailAddress(Closed):
    name: str
    address: str


class ContentType(Closed):
    value: str
    params: dict[str, str]


class MessageFields(Closed):
    id: Uid
    mailbox: Id
    thread: str
    from_: MailAddress | None = Field(alias="from")
    to: list[MailAddress]
    cc: list[MailAddress]
    bcc: list[MailAddress]
    messageId: str | None
    subject: str
    date: Timestamp
    idate: Timestamp
    intro: str
    size: int
    seen: bool
    deleted: bool
    flagged: bool
    draft: bool
    answered: bool
    forwarded: bool
    contentType: ContentType | None
    expires: Timestamp | Literal[False]
    encrypted: bool


class MessageSummary(MessageFields):
    attachments: bool = Field(description="Whether the message has attachments")


class MessageList(Paged):
    specialUse: str | None
    results: list[MessageSummary]


class FlaggedList(Paged):
    results: list[MessageSummary]


class SearchResults(Paged):
    query: str = Field(description="The query string searched for, empty without one")
    results: list[MessageSummary]


class Attachment(Closed):
    id: AttachmentId
    filename: str | None
    contentType: str | None
    disposition: str | None
    transferEncoding: str | None
    related: bool
    cid: str | None
    size: int
    sizeKb: int
    hash: str = Field(None, description="SHA-256 (hex) of the decoded content; "
                      "absent for messages stored before it was kept")


class MailingList(Closed):
    id: MailAddress = Field(None, description="From List-Id, when present")
    unsubscribe: list[MailAddress] = Field(None, description="From List-Unsubscribe, when present")


class _MailingListField(Closed):
    # On its own class: a field named `list` would shadow the builtin in the annotations
    # of the class that declares it.
    list: MailingList = Field(None, description="Left out without List-Id and List-Unsubscribe")


class MessageBody(MessageFields, _MailingListField):
    user: Id
    # Left out when the message has none, as the reference server does.
    cc: list[MailAddress] = Field(None)  # type: ignore[assignment]
    bcc: list[MailAddress] = Field(None)  # type: ignore[assignment]
    replyTo: list[MailAddress] = Field(None)
    inReplyTo: str | None
    references: list[str]
    junk: bool
    text: str
    html: list[str]
    attachments: list[Attachment]
    metaData: dict[str, Any] = Field(description="Set on upload or update; {} when none")


class MessageDetails(Answer, MessageBody):
    pass


class StoredMessage(Closed):
    id: Uid
    mailbox: Id
    size: int


class MessageUploaded(Answer):
    message: StoredMessage


class SubmittedMessage(Closed):
    """Where the sent copy was stored (`false` when the account had no room for it,
    then `overQuota` is true) and the id SES gave the mail (`false`: nothing sent)."""

    id: Uid | Literal[False]
    mailbox: Id | Literal[False]
    queueId: str | Literal[False]
    overQuota: bool | None = None


class MessageSubmitted(Answer):
    message: SubmittedMessage


class DraftSubmitted(Answer):
    """No `queueId` nor `message` when the draft had no recipients (nothing sent)."""

    queueId: str | None = None
    message: StoredMessage | None = None


class ForwardTarget(Closed):
    seq: str = Field(description="Its place in the list, 3 hex digits (001, 002, ...)")
    type: str
    value: str


class StoredForwarded(Answer):
    queueId: str = Field(None, description="SES's message id; absent when nobody was given")
    forwarded: list[ForwardTarget]


class UploadTarget(Answer):
    id: Id
    method: Literal["PUT"]
    url: str
    headers: dict[str, str]
    expires: Timestamp
    maxSize: int


class MessageEvent(BaseModel):
    """Action-specific fields (flags, mailbox, uid...) come with each entry."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    id: str
    action: str
    time: Timestamp


class MessageEvents(Answer):
    id: Id
    events: list[MessageEvent]


class MessagesUpdated(Answer):
    updated: int


class MessagesMoved(Answer):
    mailbox: Id
    id: list[Annotated[list[Uid], Field(min_length=2, max_length=2)]] = Field(
        description="[old uid, new uid] pairs")


MessagesChanged = MessagesUpdated | MessagesMoved


class MailboxCleared(Answer):
    deleted: int = Field(description="Messages deleted by this request")
    errors: int = Field(description="Messages that could not be deleted")
    scheduled: Id = Field(None, description="Set when the rest was queued: the task id")


class ClearScheduled(Answer):
    existing: bool = Field(description="The mailbox was already queued for emptying")
    scheduled: Id = Field(description="The task id")


class QuotaRecount(Answer):
    storageUsed: int
    previousStorageUsed: int


# Archive

class ArchivedSummary(MessageSummary):
    id: Id  # type: ignore[assignment]  # the archive's id, where listings have a uid
    uid: Uid
    archived: Timestamp


class ArchivedList(Paged):
    specialUse: None
    results: list[ArchivedSummary]


class ArchivedDetails(Answer, MessageBody):
    id: Id  # type: ignore[assignment]
    uid: Uid
    archived: Timestamp


class Restored(Answer):
    mailbox: Id
    id: Uid = Field(description="The restored message's uid (WildDuck's name)")
    uid: Uid


class RestoreQueued(Answer):
    task: Id = Field(description="The queued restore task")


# Filters and autoreply

Description = list[str | int | Literal[False]]


class FilterQueryFields(Closed):
    from_: str = Field(None, alias="from")
    to: str = Field(None)
    subject: str = Field(None)
    listId: str = Field(None)
    text: str = Field(None)
    ha: bool = Field(None)
    size: int = Field(None)


class FilterActionFields(Closed):
    seen: bool = Field(None)
    flag: bool = Field(None)
    delete: bool = Field(None)
    spam: bool = Field(None)
    mailbox: Id = Field(None)
    targets: list[str] = Field(None)


class FilterSummary(Closed):
    id: Id
    name: str
    query: list[Description] = Field(description="Readable tuples, e.g. [[\"from\", \"(abc)\"]]")
    action: list[Description] = Field(description="Readable tuples, e.g. [[\"flag it\"]]")
    disabled: bool
    created: Timestamp
    metaData: dict[str, Any] = Field(None, description="With metaData=true")


class FilterLimits(Closed):
    allowed: int
    used: int


class FilterList(Answer):
    limits: FilterLimits
    results: list[FilterSummary]


class FilterOfUser(FilterSummary):
    user: Id
    targets: list[str]


class AllFilterList(Paged):
    results: list[FilterOfUser]


class FilterDetails(Answer):
    """Today's nested `query`/`action`, and the contract's flat fields beside them."""

    id: Id
    name: str
    created: Timestamp
    disabled: bool
    query: FilterQueryFields
    action: FilterActionFields
    metaData: dict[str, Any] = Field(None)
    query_from: str = Field(None)
    query_to: str = Field(None)
    query_subject: str = Field(None)
    query_listId: str = Field(None)
    query_text: str = Field(None)
    query_ha: bool = Field(None)
    query_size: int = Field(None)
    action_seen: bool = Field(None)
    action_flag: bool = Field(None)
    action_delete: bool = Field(None)
    action_spam: bool = Field(None)
    action_mailbox: Id = Field(None)
    action_forward: str = Field(None, description="The first address target")
    action_targetUrl: str = Field(None, description="The first http(s) target")


class Autoreply(Answer):
    status: bool
    name: str
    subject: str
    text: str
    html: str
    message: str = Field(description="The contract's name for `text`")
    start: Timestamp | Literal[False]
    end: Timestamp | Literal[False]
    created: Timestamp | Literal[False]


# The document itself

class OpenApiDocument(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
