"""Route of the message search (services/search)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api import message_views as views
from chalicelib.api.http import endpoint
from chalicelib.api.paging import page_response, shaped

if TYPE_CHECKING:
    from chalicelib.schemas.search import SearchMessages

bp = Blueprint(__name__)


@endpoint(bp, "/users/{user}/search", "GET", "search.SearchMessages", response="SearchResults",
          summary="Search messages of every mailbox (Junk and Trash only when asked)")
def search_messages(params: SearchMessages) -> dict[str, Any]:
    # imported on the first search, not on every function's cold start (~13 ms CPU)
    from chalicelib.services.search.query import Criteria, search
    criteria = Criteria(
        query=params.query, mailbox=params.mailbox, thread=params.thread, from_=params.from_,
        to=params.to, subject=params.subject, datestart=params.datestart,
        dateend=params.dateend, min_size=params.minSize, max_size=params.maxSize,
        attachments=params.attachments, flagged=params.flagged, unseen=params.unseen,
        searchable=params.searchable, order=params.order)
    total, page = search(params.user, criteria, limit=params.limit, next_token=params.next,
                         previous_token=params.previous)
    return page_response(page, params.page, shaped(page, views.summary), total=total,
                         query=params.query or "")
