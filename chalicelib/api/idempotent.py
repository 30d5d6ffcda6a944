"""`Idempotency-Key` at the edge: answer a retried create with its first result."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from chalicelib.api.http import RequestContext
from chalicelib.services import idempotency
from chalicelib.services.idempotency import Claim

if TYPE_CHECKING:
    from pydantic import BaseModel


def _header(ctx: RequestContext) -> str | None:
    wanted = idempotency.HEADER.lower()
    return next((value for name, value in ctx.headers.items() if name.lower() == wanted), None)


def once(ctx: RequestContext, operation: str, params: BaseModel,
         create: Callable[[Claim | None], dict[str, Any]],
         view: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Run `create` (which records its result under the claim) unless the key already
    has a result; either way answer `view(result)`."""
    caller = getattr(ctx.principal, "user", None) or "operator"
    claim = idempotency.claim(operation, caller, _header(ctx), params.model_dump())
    if claim is not None:
        earlier = idempotency.previous(claim)
        if earlier is not None:
            return view(earlier)
    try:
        return view(create(claim))
    except idempotency.Replayed:
        assert claim is not None
        return view(idempotency.previous(claim) or {})
