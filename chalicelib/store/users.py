"""The users table: one item per account."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute,
                                 NumberAttribute, UnicodeAttribute)
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store.base import meta

LIVE = "user"  # value of `kind` on accounts that are not deleted (feeds the byKind index)


class ByKindIndex(GlobalSecondaryIndex["UserItem"]):
    class Meta:
        index_name = "byKind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class UserItem(Model):
    Meta = meta("users")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    username = UnicodeAttribute()
    unameview = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    password = UnicodeAttribute(null=True)
    hasPassword = BooleanAttribute(default=False)
    passwordChanged = NumberAttribute(default=0)
    tempPassword = MapAttribute(null=True)  # {hash, created}
    requirePasswordChange = BooleanAttribute(default=False)
    quota = NumberAttribute(null=True)
    storageUsed = NumberAttribute(default=0)
    retention = NumberAttribute(default=0)
    language = UnicodeAttribute(null=True)
    recipients = NumberAttribute(default=0)
    forwards = NumberAttribute(default=0)
    filters = NumberAttribute(null=True)  # how many filters it may have (0/absent: default)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    tagsview = ListAttribute(of=UnicodeAttribute, default=list)
    pubKey = UnicodeAttribute(null=True)
    keyInfo = MapAttribute(null=True)
    encryptMessages = BooleanAttribute(default=False)
    encryptForwarded = BooleanAttribute(default=False)
    enabled2fa = ListAttribute(of=UnicodeAttribute, default=list)
    totp = MapAttribute(null=True)  # {seed: KMS ciphertext (base64), created: ms}
    aspCount = NumberAttribute(default=0)  # exact, changed with every ASP put/delete
    # Epoch seconds until which a rate limit refuses attempts (see services/ratelimit).
    authLockedUntil = NumberAttribute(null=True)
    totpLockedUntil = NumberAttribute(null=True)
    disabledScopes = ListAttribute(of=UnicodeAttribute, default=list)
    # Today's WildDuck settings (docs/compatibility.md): forwarding targets (email
    # addresses or smtp/http URLs), spam threshold, extra sender addresses, and
    # per-protocol limits (0 or absent: the default).
    targets = ListAttribute(of=UnicodeAttribute, null=True)
    spamLevel = NumberAttribute(null=True)
    uploadSentMessages = BooleanAttribute(null=True)
    fromWhitelist = ListAttribute(of=UnicodeAttribute, null=True)
    featureFlags = ListAttribute(of=UnicodeAttribute, null=True)  # the flags that are on
    imapMaxUpload = NumberAttribute(null=True)
    imapMaxDownload = NumberAttribute(null=True)
    pop3MaxDownload = NumberAttribute(null=True)
    pop3MaxMessages = NumberAttribute(null=True)
    imapMaxConnections = NumberAttribute(null=True)
    receivedMax = NumberAttribute(null=True)
    metaData = UnicodeAttribute(null=True)  # compact JSON text of an object
    internalData = UnicodeAttribute(null=True)  # the same, shown to the operator only
    activated = BooleanAttribute(default=True)
    disabled = BooleanAttribute(default=False)
    suspended = BooleanAttribute(default=False)
    journalSeq = NumberAttribute(default=0)
    # When the last journal number was handed out (epoch ms): lets a reader tell numbers
    # still in flight from entries that expired (services/realtime/journal_reader).
    journalAt = NumberAttribute(null=True)
    # Number of mailboxes, kept in the transactions that create and delete them so the
    # per-user limit holds exactly under concurrency. None: never counted (count on use).
    mailboxCount = NumberAttribute(null=True)
    # Number of addresses, kept like mailboxCount (services/addresses.MAX_ADDRESSES).
    addressCount = NumberAttribute(null=True)
    # Daily sending counters (services/outbound): what was counted in the window that
    # ends at `...Reset` (epoch seconds); a window in the past counts as zero.
    recipientsSent = NumberAttribute(null=True)
    recipientsReset = NumberAttribute(null=True)
    forwardsSent = NumberAttribute(null=True)
    forwardsReset = NumberAttribute(null=True)
    created = NumberAttribute()
    deleted = NumberAttribute(null=True)

    by_kind = ByKindIndex()


def no_own_quota() -> Condition:
    """The account uses the default quota: no `quota` attribute (items written by older
    code may hold it as NULL, which means the same)."""
    return UserItem.quota.does_not_exist() | Path(UserItem.quota).is_type("NULL")


def has_pub_key() -> Condition:
    """The account has a PGP key (a string: neither absent nor NULL)."""
    return UserItem.pubKey.is_type()
