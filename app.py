"""The Chalice application: blueprints, the access check, request logging.

Everything Chalice-specific lives here and in chalicelib/api; the domain below knows
nothing of HTTP.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from chalice import Chalice, Rate, Response

from chalicelib import logs
from chalicelib.api import addresses, archive, asps, auth, mailboxes, messages, twofa, users
from chalicelib.api.access import check_access
from chalicelib.api.http import error_response, internal_error_response, request_id_of
from chalicelib.api.openapi import document
from chalicelib.errors import DomainError
from chalicelib.store.transact import API_BUDGET_S, BACKGROUND_BUDGET_S, budget

app = Chalice(app_name="wildduck-api")
# Binary responses do not depend on this list: downloads use api.http.BinaryResponse,
# which marks its body base64 whatever its type, and API Gateway treats every type as
# binary (infra/tables.yaml). Chalice refuses a response whose type is listed here when
# the request's Accept header does not match it, so the list stays (nearly) empty:
# `message/rfc822` downloads then work without an Accept header, and raw uploads still
# reach handlers as bytes (chalice local and the test client pass unlisted bodies as
# they are; API Gateway base64-encodes them under `*/*`, and Chalice decodes).
app.api.binary_types = ["application/x-apple-aspen-config"]

for blueprint in (users.bp, auth.bp, twofa.bp, asps.bp, addresses.bp, mailboxes.bp,
                  messages.bp, archive.bp):
    app.register_blueprint(blueprint)


@app.middleware("http")
def access_and_request_log(request: Any, get_response: Callable[[Any], Response]) -> Response:
    started = time.monotonic()
    request.context = request.context or {}
    request.context.setdefault("requestId", request_id_of(request))
    request_id = request.context["requestId"]
    try:
        with budget(API_BUDGET_S):  # every retry of this request ends well inside 29 s
            check_access(request)
            response = get_response(request)
    except DomainError as error:
        response = error_response(error)
    except Exception:
        logs.exception("unhandled error", requestId=request_id)
        response = internal_error_response(request_id)
    response.headers["X-Request-Id"] = request_id
    logs.info("request", requestId=request_id, method=request.method,
              route=request.context.get("resourcePath"), status=response.status_code,
              latencyMs=round((time.monotonic() - started) * 1000, 1))
    return response


@app.route("/openapi.json", methods=["GET"])
def openapi() -> dict[str, Any]:
    return document()


def _purge_summary(job: str, report: Any) -> dict[str, int]:
    logs.info(job, tasksDone=report.tasks_done, removed=report.messages_removed)
    return {"tasksDone": report.tasks_done, "messagesRemoved": report.messages_removed}


@app.schedule(Rate(5, unit=Rate.MINUTES))
def purge_deleted_mailboxes(event: Any) -> dict[str, int]:
    """Remove the messages of deleted mailboxes, a bounded number per run."""
    from chalicelib.services import maintenance
    with budget(BACKGROUND_BUDGET_S):
        return _purge_summary("purge-mailboxes", maintenance.purge_mailboxes())


@app.schedule(Rate(10, unit=Rate.MINUTES))
def expire_messages(event: Any) -> dict[str, int]:
    """Delete messages whose `expires` date has passed."""
    from chalicelib.services import maintenance
    with budget(BACKGROUND_BUDGET_S):
        deleted = maintenance.expire_messages()
    logs.info("expire-messages", deleted=deleted)
    return {"deleted": deleted}


@app.schedule(Rate(1, unit=Rate.HOURS))
def purge_deleted_users(event: Any) -> dict[str, int]:
    """Remove the data of accounts deleted more than the grace period ago."""
    from chalicelib.services import maintenance
    with budget(BACKGROUND_BUDGET_S):
        return _purge_summary("purge-users", maintenance.purge_users())


@app.schedule(Rate(1, unit=Rate.DAYS))
def sweep_mail_bucket(event: Any) -> dict[str, int]:
    """Delete S3 folders no message or archived message references any more."""
    from chalicelib.services import maintenance
    report = maintenance.sweep()
    logs.info("sweep", folders=report.folders_seen, candidates=report.candidates,
              deleted=report.deleted, uploads=report.uploads_deleted)
    return {"folders": report.folders_seen, "candidates": report.candidates,
            "deleted": report.deleted}
