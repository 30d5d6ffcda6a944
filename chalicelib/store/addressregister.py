"""The addressregister table: the addresses an account wrote to or received mail from,
one partition per account, for address autocomplete.

An entry is keyed by the address's dotless form (`addrview`: lower case, dots of the
local part removed), so spellings of one mailbox share one entry, as WildDuck keys its
register. `nameKey` (the case-folded name, cut to fit a key) feeds the local index
`byName` for the name-prefix search; an entry without a name has no `nameKey` and is
not in the index. Entries are written only by the messages stream's handler
(services/addressregister.py), never in a request.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.indexes import IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.ids import new_id
from chalicelib.store.base import meta

NAME_KEY_CHARS = 200  # an LSI sort key is at most 1,024 bytes


class ByName(LocalSecondaryIndex["RegisterItem"]):
    class Meta:
        index_name = "byName"
        projection = IncludeProjection(["id", "address", "name", "updated"])

    user = UnicodeAttribute(hash_key=True)
    nameKey = UnicodeAttribute(range_key=True)


class RegisterItem(Model):
    Meta = meta("addressregister")

    user = UnicodeAttribute(hash_key=True)
    addrview = UnicodeAttribute(range_key=True)
    id = UnicodeAttribute()  # 24 hex, given when the entry is created
    address = UnicodeAttribute()  # the normalized spelling first recorded
    name = UnicodeAttribute(null=True)
    nameKey = UnicodeAttribute(null=True)
    nameAt = NumberAttribute(null=True)  # epoch ms of the message the name came from
    updated = NumberAttribute()  # epoch ms of the newest message recorded

    by_name = ByName()


def name_key(text: str) -> str:
    return text.casefold()[:NAME_KEY_CHARS]


def _refused(error: UpdateError) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def record(user: str, addrview: str, address: str, name: str, at: int) -> None:
    """Upsert one entry as seen in a message stored at `at` (epoch ms): `updated` and,
    when the message names the address, the name move forward only (conditions on the
    stored times), so a repeated or late record changes nothing it should not. One
    UpdateItem; a second one only when the first was refused and the late message
    carries a name newer than the entry's (its name then still wins)."""
    entry = RegisterItem(user=user, addrview=addrview)
    actions = [RegisterItem.updated.set(at), RegisterItem.id.set(RegisterItem.id | new_id()),
               RegisterItem.address.set(RegisterItem.address | address)]
    naming = [RegisterItem.name.set(name), RegisterItem.nameKey.set(name_key(name)),
              RegisterItem.nameAt.set(at)] if name else []
    try:
        entry.update(actions=actions + naming,
                     condition=RegisterItem.updated.does_not_exist() | (RegisterItem.updated < at))
        return
    except UpdateError as error:
        if not _refused(error):
            raise
    if not naming:
        return
    try:
        entry.update(actions=naming, condition=RegisterItem.updated.exists() & (
            RegisterItem.nameAt.does_not_exist() | (RegisterItem.nameAt < at)))
    except UpdateError as error:
        if not _refused(error):
            raise


def by_address(user: str, prefix: str, limit: int) -> list[RegisterItem]:
    """Entries whose `addrview` starts with `prefix`, in key order, at most `limit`."""
    return list(RegisterItem.query(user, RegisterItem.addrview.startswith(prefix), limit=limit))


def by_name(user: str, prefix: str, limit: int) -> list[RegisterItem]:
    """Entries whose case-folded name starts with `prefix` (the byName index), in name
    order, at most `limit`."""
    return list(RegisterItem.by_name.query(user, RegisterItem.nameKey.startswith(
        name_key(prefix)), limit=limit))
