"""Domain aliases: `alias.example` makes every address of `example.com` valid at it.

Two items per alias, written together: the lookup `domainalias#<alias domain>` (unique,
resolved in one GetItem while an address is resolved) and a listing item in the
addresses table under the partition `DOMAIN_ALIASES` (read by id, listed by a Query of
that one partition; there are few aliases per deployment).
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta

DOMAIN_ALIASES = "*domainaliases"  # never a user id (those are 24 hex characters)


class DomainAliasItem(Model):
    Meta = meta("addresses")

    user = UnicodeAttribute(hash_key=True)  # always DOMAIN_ALIASES
    id = UnicodeAttribute(range_key=True)
    alias = UnicodeAttribute()
    domain = UnicodeAttribute()
    created = NumberAttribute()


def lookup_key(alias_domain: str) -> str:
    return f"domainalias#{alias_domain}"


def get(alias_id: str) -> DomainAliasItem | None:
    try:
        return DomainAliasItem.get(DOMAIN_ALIASES, alias_id, consistent_read=True)
    except DomainAliasItem.DoesNotExist:
        return None
