"""Running a search: which postings to read, what to check on the messages, paging.

Two plans, both in date order (`userDateKey`) and both with an exact `total`:

- one word and nothing that must be read on the message (flags, headers, phrases,
  exclusions): a page is one Query of the word's postings (`limit + 1`, from the
  cursor) and its total a COUNT of the same postings; mailbox, size, attachment,
  thread and date conditions are on the postings (filter and key conditions);
- anything else: every posting of every word is read (keys and the posting fields),
  intersected in memory, and when a condition needs the message, every candidate
  message is read (BatchGetItem) to count the matches exactly. The cost grows with the
  number of candidates, not with the mailbox; a search without words reads the
  account's message index (`byUser`) instead.

Results are the message items themselves (one BatchGetItem per page): an entry whose
message has moved on or gone since it was indexed is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Iterable, Sequence

from chalicelib.cursors import Cursor, decode_cursor, encode_cursor
from chalicelib.errors import NoSuchMailbox, UserNotFound
from chalicelib.services.messages import HIDDEN_FROM_FLAGGED, plain
from chalicelib.services.search.indexer import message_text
from chalicelib.services.search.text import ParsedQuery, fold, has_phrase, parse_query, words
from chalicelib.store import mailboxes as mailboxes_store
from chalicelib.store import messages as messages_store
from chalicelib.store import search as index
from chalicelib.store.messages import FLAGGED, SEEN, MessageItem
from chalicelib.store.paging import Page
from chalicelib.store.search import PostingItem

MAX_IN_VALUES = 100  # DynamoDB's limit on the values of one IN condition


@dataclass(frozen=True)
class Criteria:
    query: str | None = None
    mailbox: str | None = None
    thread: str | None = None
    from_: str | None = None
    to: str | None = None
    subject: str | None = None
    datestart: int | None = None
    dateend: int | None = None
    min_size: int | None = None
    max_size: int | None = None
    attachments: bool = False
    flagged: bool = False
    unseen: bool = False
    searchable: bool | None = None  # None: skip Junk and Trash unless a mailbox is named
    order: str = "desc"


@dataclass(frozen=True)
class Candidate:
    """A message a search may return: its sort key and where it lives."""

    sort: str
    mailbox: str
    uid: int
    size: int
    att: bool
    thread: str


def search(user: str, criteria: Criteria, *, limit: int = 20, next_token: str | None = None,
           previous_token: str | None = None) -> tuple[int, Page[MessageItem]]:
    scope = f"search:{user}"
    cursor = (decode_cursor(scope, next_token, "next") if next_token else
              decode_cursor(scope, previous_token, "previous") if previous_token else None)
    plan = _Plan(user, criteria, _places(user, criteria))
    if criteria.query and plan.parsed.empty:  # only punctuation: no word to find
        return 0, Page([], False, False)
    if plan.simple:
        total, window = plan.term_page(cursor, limit)
    else:
        matches = plan.matches()
        total = len(matches)
        window = _window(matches, cursor, limit, criteria.order == "asc")
    return total, _page(scope, window, cursor, limit, plan.allowed)


def _places(user: str, criteria: Criteria) -> set[str]:
    """The mailboxes searched: the named one, or every mailbox of the account except
    Junk and Trash (all of them with `searchable=false`). One Query, which also proves
    the account (a live account always has an INBOX)."""
    boxes = mailboxes_store.list_for_user(user)
    if not any(box.path == "INBOX" for box in boxes):
        raise UserNotFound()
    if criteria.mailbox:
        if not any(box.id == criteria.mailbox for box in boxes):
            raise NoSuchMailbox()
        return {criteria.mailbox}
    return {box.id for box in boxes
            if criteria.searchable is False or box.specialUse not in HIDDEN_FROM_FLAGGED}


class _Plan:
    def __init__(self, user: str, criteria: Criteria, allowed: set[str]) -> None:
        self.user, self.criteria, self.allowed = user, criteria, allowed
        self.parsed: ParsedQuery = parse_query(criteria.query)
        self.low = index.date_low(criteria.datestart) if criteria.datestart is not None else None
        self.high = index.date_high(criteria.dateend) if criteria.dateend is not None else None
        c = criteria
        self.on_message = bool(c.flagged or c.unseen or c.from_ or c.to or c.subject
                               or self.parsed.phrases or self.parsed.excluded_phrases)
        # (past 100 mailboxes the mailbox condition is checked in code, which a COUNT
        # cannot do)
        self.simple = (len(self.parsed.words) == 1 and not self.on_message
                       and not self.parsed.excluded and len(allowed) <= MAX_IN_VALUES)

    # ------------------------------------------------------------------ posting level
    def posting_filter(self) -> Any:
        c, conditions = self.criteria, []
        if len(self.allowed) <= MAX_IN_VALUES:
            conditions.append(PostingItem.mailbox.is_in(*sorted(self.allowed)))
        if c.min_size is not None:
            conditions.append(PostingItem.size >= c.min_size)
        if c.max_size is not None:
            conditions.append(PostingItem.size <= c.max_size)
        if c.attachments:
            conditions.append(PostingItem.att == 1)
        if c.thread:
            conditions.append(PostingItem.thread == c.thread)
        combined = None
        for condition in conditions:
            combined = condition if combined is None else combined & condition
        return combined

    def fits(self, candidate: Candidate) -> bool:
        """The posting conditions, for candidates that did not come from postings."""
        c = self.criteria
        return (candidate.mailbox in self.allowed
                and (c.min_size is None or candidate.size >= c.min_size)
                and (c.max_size is None or candidate.size <= c.max_size)
                and (not c.attachments or candidate.att)
                and (not c.thread or candidate.thread == c.thread)
                and (self.low is None or candidate.sort >= self.low)
                and (self.high is None or candidate.sort <= self.high))

    def _postings(self, term: str, *, low: str | None, high: str | None, forward: bool = True,
                  limit: int | None = None) -> Iterable[PostingItem]:
        return index.postings(self.user, term, forward=forward, low=low, high=high,
                              filter_condition=self.posting_filter(), limit=limit)

    # ------------------------------------------------------------------------ plans
    def term_page(self, cursor: Cursor | None, limit: int) -> tuple[int, list[Candidate]]:
        """One word, posting conditions only: a Query of limit + 1 and a COUNT."""
        forward = self.criteria.order == "asc"
        backwards = cursor is not None and cursor.direction == "previous"
        reading = forward != backwards
        low, high = self.low, self.high
        if cursor is not None:
            edge = str(cursor.key.get("sort", ""))
            if reading:
                low = max(low or "", index.after(edge))
            else:
                high = min(high, index.before(edge)) if high else index.before(edge)
        term = self.parsed.words[0]
        found = [_candidate(p) for p in islice(
            self._postings(term, forward=reading, low=low, high=high, limit=limit + 1),
            limit + 1)]
        total = index.count_postings(self.user, term, low=self.low, high=self.high,
                                     filter_condition=self.posting_filter())
        return total, found

    def matches(self) -> list[Candidate]:
        """Every match, in ascending date order."""
        parsed = self.parsed
        listed: dict[str, MessageItem] = {}
        if parsed.words:
            found: dict[str, Candidate] | None = None
            for term in sorted(parsed.words, key=len, reverse=True):  # longer: fewer
                postings = {p.sort: _candidate(p)
                            for p in self._postings(term, low=self.low, high=self.high)
                            if found is None or p.sort in found}
                found = postings if found is None else {s: found[s] for s in postings}
                if not found:
                    return []
            candidates = [c for c in (found or {}).values() if c.mailbox in self.allowed]
        else:
            # the account's message index carries flags and headers, not bodies
            listed = {item.userDateKey: item for item in messages_store.of_user(self.user)}
            candidates = [c for c in map(_candidate_of, listed.values()) if self.fits(c)]
        for term in parsed.excluded:
            hit = {p.sort for p in index.postings(self.user, term, forward=True, low=self.low,
                                                   high=self.high)}
            candidates = [c for c in candidates if c.sort not in hit]
        candidates.sort(key=lambda c: c.sort)
        if not self.on_message:
            return candidates
        if listed and not self.needs_text:
            items = listed
        else:
            items = _items(candidates, None if self.needs_text else index.CHECKED_ATTRIBUTES)
        return [c for c in candidates if (item := items.get(c.sort)) and self.accepts(item)]

    @property
    def needs_text(self) -> bool:
        return bool(self.parsed.phrases or self.parsed.excluded_phrases)

    def accepts(self, item: MessageItem) -> bool:
        c, parsed = self.criteria, self.parsed
        flags = item.flags or []
        if (c.flagged and FLAGGED not in flags) or (c.unseen and SEEN in flags):
            return False
        if c.subject and fold(c.subject) not in fold(item.subject or ""):
            return False
        if c.from_ and not _mentions([plain(item.from_)] if item.from_ else [], c.from_):
            return False
        if c.to and not _mentions(plain(item.to or []) + plain(item.cc or []), c.to):
            return False
        if self.needs_text:
            sequence = words(message_text(item))
            if not all(has_phrase(sequence, p) for p in parsed.phrases):
                return False
            if any(has_phrase(sequence, p) for p in parsed.excluded_phrases):
                return False
        return True


def _mentions(people: list[dict[str, Any]], needle: str) -> bool:
    """A partial, case- and accent-insensitive match on `Name <address>` header lines."""
    wanted = fold(needle)
    return any(wanted in fold(f"{p.get('name') or ''} <{p.get('address') or ''}>")
               for p in people if p)


def _candidate(posting: PostingItem) -> Candidate:
    return Candidate(posting.sort, posting.mailbox, int(posting.uid), int(posting.size),
                     bool(posting.att), posting.thread)


def _candidate_of(item: MessageItem) -> Candidate:
    return Candidate(item.userDateKey, item.mailbox, int(item.uid), int(item.size),
                     bool(item.hasAttachments), item.thread)


def _items(candidates: Sequence[Candidate],
           attributes: list[str] | None = None) -> dict[str, MessageItem]:
    """The messages the candidates name (eventually consistent: a search may lag a write
    by a moment), by sort key; one that is not where its candidate says is left out."""
    expected = {(c.mailbox, c.uid): c.sort for c in candidates}
    return {item.userDateKey: item
            for item in index.messages_at(list(expected), attributes)
            if expected.get((item.mailbox, int(item.uid))) == item.userDateKey}


def _window(matches: list[Candidate], cursor: Cursor | None, limit: int,
            forward: bool) -> list[Candidate]:
    """Up to limit + 1 matches in reading order from the cursor (ascending input)."""
    backwards = cursor is not None and cursor.direction == "previous"
    reading = forward != backwards
    ordered: Iterable[Candidate] = matches if reading else reversed(matches)
    if cursor is not None:
        edge = str(cursor.key.get("sort", ""))
        beyond: Callable[[Candidate], bool] = ((lambda c: c.sort > edge) if reading
                                              else (lambda c: c.sort < edge))
        ordered = (c for c in ordered if beyond(c))
    return list(islice(ordered, limit + 1))


def _page(scope: str, window: list[Candidate], cursor: Cursor | None, limit: int,
          allowed: set[str]) -> Page[MessageItem]:
    """The page's messages and cursors; `window` is in reading order, limit + 1 long when
    there is more beyond the page."""
    backwards = cursor is not None and cursor.direction == "previous"
    more = len(window) > limit
    edges = window[:limit]
    if backwards:
        edges.reverse()
    if not edges:
        return Page([], False, False)
    items = _items(edges)
    shown = [items[c.sort] for c in edges if c.sort in items and items[c.sort].mailbox in allowed]
    has_next = True if backwards else more
    has_previous = more if backwards else cursor is not None
    return Page(shown,
                encode_cursor(scope, {"sort": edges[-1].sort}, "next") if has_next else False,
                encode_cursor(scope, {"sort": edges[0].sort}, "previous") if has_previous else False)
