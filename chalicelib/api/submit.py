"""Routes of submission: send a composed message, or a stored draft."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import RequestContext, endpoint
from chalicelib.api.idempotent import once
from chalicelib.services import submission
from chalicelib.services.idempotency import Claim
from chalicelib.services.submission import Submitted

if TYPE_CHECKING:
    from chalicelib.schemas.submit import ForwardStored, SubmitDraft, SubmitMessage

bp = Blueprint(__name__)


@endpoint(bp, "/users/{user}/submit", "POST", "submit.SubmitMessage", response="MessageSubmitted",
          summary="Send a message composed from fields (stored in Sent)")
def submit_message(params: SubmitMessage, ctx: RequestContext) -> dict[str, Any]:
    def send(claim: Claim | None) -> dict[str, Any]:
        result = _result(submission.submit(params, claim))
        if not result["uid"]:  # no copy stored: nothing recorded the key yet
            submission.remember(claim, result)
        return result

    return once(ctx, f"submit:{params.user}", params, send, lambda result: {
        "message": _submitted_view(result)})


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}/messages/{message}/submit", "POST",
          "submit.SubmitDraft", response="DraftSubmitted",
          summary="Send a stored draft (moved to Sent)")
def submit_draft(params: SubmitDraft, ctx: RequestContext) -> dict[str, Any]:
    def send(claim: Claim | None) -> dict[str, Any]:
        result = _result(submission.submit_draft(params, claim))
        submission.remember(claim, result)
        return result

    return once(ctx, f"submit-draft:{params.user}", params, send, _draft_view)


@endpoint(bp, "/users/{user}/mailboxes/{mailbox}/messages/{message}/forward", "POST",
          "submit.ForwardStored", response="StoredForwarded",
          summary="Forward a stored message to other addresses")
def forward_stored(params: ForwardStored, ctx: RequestContext) -> dict[str, Any]:
    def send(claim: Claim | None) -> dict[str, Any]:
        done = submission.forward_stored(params, claim)
        result = {"queueId": done.queue_id or "", "recipients": list(done.recipients)}
        submission.remember(claim, result)
        return result

    def view(result: dict[str, Any]) -> dict[str, Any]:
        forwarded = [{"seq": f"{n:03x}", "type": "mail", "value": address}
                     for n, address in enumerate(result["recipients"], start=1)]
        return {**({"queueId": result["queueId"]} if result["queueId"] else {}),
                "forwarded": forwarded}

    return once(ctx, f"forward-stored:{params.user}", params, send, view)


def _result(done: Submitted) -> dict[str, Any]:
    """What the Idempotency-Key record keeps (plain values, no None)."""
    return {"uid": done.uid or 0, "mailbox": done.mailbox or "", "size": done.size,
            "queueId": done.queue_id or ""}


def _submitted_view(result: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"id": result["uid"] or False, "mailbox": result["mailbox"] or False,
                            "queueId": result["queueId"] or False}
    if not result["uid"]:
        view["overQuota"] = True
    return view


def _draft_view(result: dict[str, Any]) -> dict[str, Any]:
    if not result["queueId"]:
        return {}
    return {"queueId": result["queueId"], "message": {
        "id": result["uid"], "mailbox": result["mailbox"], "size": result["size"]}}
