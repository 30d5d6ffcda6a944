"""The Chalice application: blueprints, request logging, scheduled jobs.

Everything Chalice-specific lives here and in chalicelib/api; the domain below knows
nothing of HTTP.
"""
from __future__ import annotations

import functools
import time
from typing import Any, Callable

from chalice import Chalice, Rate, Response

from chalicelib import logs, observability, streams
from chalicelib.api import (addresses, archive, asps, auth, autoreply, filters, mailboxes,
                            messages, openapi, out_of_scope, search, submit, twofa, updates,
                            users)
from chalicelib.api.http import request_id_of
from chalicelib.api.routing import complete_routes
from chalicelib.store.transact import API_BUDGET_S, BACKGROUND_BUDGET_S, budget

app = Chalice(app_name="wildduck-api")
# Binary responses do not depend on this list: downloads use api.http.BinaryResponse,
# which marks its body base64 whatever its type, and API Gateway treats every type as
# binary (infra/tables.yaml). Chalice refuses, in its own error shape, a response whose
# type is listed here when the request's Accept header does not name it; an attachment
# can have any type, so the list stays empty. Raw uploads still reach handlers as bytes
# (chalice local and the test client pass unlisted bodies as they are; API Gateway
# base64-encodes them under `*/*`, and Chalice decodes).
app.api.binary_types = []

for blueprint in (users.bp, auth.bp, twofa.bp, asps.bp, addresses.bp, mailboxes.bp,
                  messages.bp, archive.bp, filters.bp, autoreply.bp, submit.bp, search.bp,
                  updates.bp, out_of_scope.bp, openapi.bp):
    app.register_blueprint(blueprint)
complete_routes(app)  # after every route: 405 for other methods, 404 for other paths


@app.middleware("all")
def invocation_context(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Every event (requests, schedules, and any handler added later): the Lambda
    context on its log lines, and for requests the route's metrics. Registered first,
    so it wraps the request log below."""
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    started = time.monotonic()
    with observability.invocation(context) as fields:
        response = get_response(event)
    if isinstance(response, Response) and hasattr(event, "method"):
        route = (getattr(event, "context", None) or {}).get("resourcePath")
        observability.route_metrics(f"{event.method} {route}", response.status_code,
                                    round((time.monotonic() - started) * 1000, 1),
                                    fields["coldStart"])
    return response


@app.middleware("http")
def request_log(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """Request id and one log line per request. Errors are answered inside the views
    (api/http.respond), which also run the access check."""
    started = time.monotonic()
    request.context = request.context or {}
    request.context.setdefault("requestId", request_id_of(request))
    request_id = request.context["requestId"]
    # Every retry of this request ends well inside API Gateway's 29 s, and every line
    # logged while it runs carries its id.
    with budget(API_BUDGET_S), logs.bound(requestId=request_id):
        response = get_response(request)
    response.headers["X-Request-Id"] = request_id
    logs.info("request", requestId=request_id, method=request.method,
              route=request.context.get("resourcePath"), status=response.status_code,
              latencyMs=round((time.monotonic() - started) * 1000, 1))
    return response


def background(job: Callable[[Any], dict[str, int]]) -> Callable[[Any], dict[str, int]]:
    """A scheduled job: its writes may retry longer than a request's, and its log lines
    say which job wrote them."""
    @functools.wraps(job)
    def run(event: Any) -> dict[str, int]:
        started = time.monotonic()
        with budget(BACKGROUND_BUDGET_S), logs.bound(job=job.__name__):
            summary = job(event)
        observability.job_metrics(job.__name__, summary,
                                  round((time.monotonic() - started) * 1000, 1),
                                  observability.invocation_fields(None)["coldStart"])
        return summary
    return run


def _purge_summary(job: str, report: Any) -> dict[str, int]:
    logs.info(job, tasksDone=report.tasks_done, removed=report.messages_removed)
    return {"tasksDone": report.tasks_done, "messagesRemoved": report.messages_removed}


@app.schedule(Rate(5, unit=Rate.MINUTES))
@background
def purge_deleted_mailboxes(event: Any) -> dict[str, int]:
    """Remove the messages of deleted mailboxes, a bounded number per run; then run the
    queued archive restores (`POST /archived/restore`) and mailbox emptyings
    (`DELETE .../messages`), the other task kinds."""
    from chalicelib.services import maintenance
    summary = _purge_summary("purge-mailboxes", maintenance.purge_mailboxes())
    restores = maintenance.restore_archived()
    logs.info("restore-archived", tasksDone=restores.tasks_done, restored=restores.restored,
              failed=restores.failed)
    cleared = maintenance.clear_mailboxes()
    logs.info("clear-mailboxes", deleted=cleared)
    return {**summary, "messagesRestored": restores.restored, "messagesCleared": cleared}


@app.schedule(Rate(10, unit=Rate.MINUTES))
@background
def expire_messages(event: Any) -> dict[str, int]:
    """Delete messages whose `expires` date has passed."""
    from chalicelib.services import maintenance
    deleted = maintenance.expire_messages()
    logs.info("expire-messages", deleted=deleted)
    return {"deleted": deleted}


@app.schedule(Rate(1, unit=Rate.HOURS))
@background
def purge_deleted_users(event: Any) -> dict[str, int]:
    """Remove the data of accounts deleted more than the grace period ago."""
    from chalicelib.services import maintenance
    return _purge_summary("purge-users", maintenance.purge_users())


@app.schedule(Rate(5, unit=Rate.MINUTES))
@background
def reset_quotas(event: Any) -> dict[str, int]:
    """Recount the storage of every account after `POST /quota/reset`, a bounded
    number of accounts per run."""
    from chalicelib.services import quota
    done, recounted = quota.reset_all()
    logs.info("reset-quotas", tasksDone=done, recounted=recounted)
    return {"tasksDone": done, "recounted": recounted}


@app.schedule(Rate(1, unit=Rate.DAYS))
@background
def sweep_mail_bucket(event: Any) -> dict[str, int]:
    """Delete S3 folders no message or archived message references any more."""
    from chalicelib.services import maintenance
    report = maintenance.sweep()
    logs.info("sweep", folders=report.folders_seen, candidates=report.candidates,
              deleted=report.deleted, uploads=report.uploads_deleted)
    return {"folders": report.folders_seen, "candidates": report.candidates,
            "deleted": report.deleted}


@app.lambda_function(name="ses_inbound")
def ses_inbound(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Mail received by SES: its receipt rule stored the raw mail in S3, then invokes
    this with the recipients (services/delivery.py). Raises when a transient failure
    left work undone, so that Lambda's retry completes it (every step is idempotent)."""
    from chalicelib.services import delivery
    with budget(BACKGROUND_BUDGET_S), logs.bound(job="ses-inbound"):
        return delivery.from_ses(event)


@app.schedule(Rate(5, unit=Rate.MINUTES))
@background
def reindex_search(event: Any) -> dict[str, int]:
    """Work on queued search backfills (services/search/backfill.py). An event whose
    `detail` is `{"user": <id>}` or `{"all": true}` (plus `"rebuild": true` to rewrite
    every posting) queues one first: `make reindex`, or an on-demand invocation."""
    from chalicelib.services.search import backfill
    from chalicelib.store.transact import deadline
    detail = event.to_dict().get("detail") or {}
    if detail.get("user") or detail.get("all"):
        backfill.request(detail.get("user"), rebuild=bool(detail.get("rebuild")))
    # Stop in time to save the position: before the job's budget and before Lambda's
    # own timeout (lambda_timeout), whichever comes first.
    context = getattr(event, "context", None)
    until = deadline()
    if context is not None:
        until = min(until, time.monotonic() + context.get_remaining_time_in_millis() / 1000)
    report = backfill.run(until - 5)
    logs.info("reindex-search", tasksDone=report.tasks_done, messages=report.messages,
              retryLater=report.retry_later)
    return {"tasksDone": report.tasks_done, "messages": report.messages,
            "retryLater": report.retry_later}


# The updates channel's push side (chalicelib/services/realtime): websockets, and the
# journal table's stream feeding them. Chalice wants websocket handlers on the app
# itself, not on a blueprint.
app.experimental_feature_flags.update(["WEBSOCKETS"])


@app.on_ws_connect()
def websocket_connect(event: Any) -> Response:
    from chalicelib.api import websocket
    return websocket.on_connect(event)


@app.on_ws_message()
def websocket_message(event: Any) -> Response:
    from chalicelib.api import websocket
    return websocket.on_message(event)


@app.on_ws_disconnect()
def websocket_disconnect(event: Any) -> Response:
    from chalicelib.api import websocket
    return websocket.on_disconnect(event)


@app.on_dynamodb_record(stream_arn=streams.placeholder_arn("journal"), batch_size=100,
                        starting_position="LATEST", name="journal_stream")
def journal_stream(event: Any) -> dict[str, Any]:
    """New journal entries to the websocket subscribers of their account; the records
    that failed are reported for retry (partial batch response)."""
    from chalicelib.services.realtime import websockets  # noqa: F401 - registers its handler
    with logs.bound(job="journal-stream"):
        return streams.dispatch(event.to_dict())


@app.on_dynamodb_record(stream_arn=streams.placeholder_arn("messages"), batch_size=100,
                        starting_position="TRIM_HORIZON", name="messages_stream")
def messages_stream(event: Any) -> dict[str, Any]:
    """The search index (services/search/indexer.py) and the address register
    (services/addressregister.py) follow the messages table; the records either could
    not handle are reported for retry (both handlers are idempotent)."""
    from chalicelib.services import addressregister
    from chalicelib.services.search import indexer
    streams.register("messages", indexer.on_messages)
    streams.register("messages", addressregister.on_messages)
    with logs.bound(job="messages-stream"):
        return streams.dispatch(event.to_dict())
