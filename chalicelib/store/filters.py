"""The filters table: a user's message filters.

Only what mailbox deletion needs for now (find and remove the filters that move mail
into a mailbox); the filters API builds on the same item shape: `query` (`criteria` in
Python) and `action` are maps, `action.mailbox` is a mailbox id.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.store.base import meta


class FilterItem(Model):
    Meta = meta("filters")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    # Stored as `query`; the Python name differs because `query` is Model's classmethod.
    criteria = MapAttribute(attr_name="query", default=dict)
    action = MapAttribute(default=dict)
    disabled = BooleanAttribute(default=False)
    created = NumberAttribute()

    @property
    def target_mailbox(self) -> str | None:
        action = self.action.as_dict() if self.action else {}
        mailbox = action.get("mailbox")
        return mailbox if isinstance(mailbox, str) else None


def targeting(user: str, mailbox_id: str) -> list[FilterItem]:
    """The user's filters that move mail into `mailbox_id` (one Query of the user's
    filters, at most 400, filtered here)."""
    return [item for item in FilterItem.query(user, consistent_read=True)
            if item.target_mailbox == mailbox_id]


def still_targets(mailbox_id: str) -> Condition:
    """Condition for deleting a filter only while it still points at the mailbox."""
    return FilterItem.action["mailbox"] == mailbox_id
