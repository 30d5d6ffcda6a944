"""Invocation context on every log line, and metrics per route and per scheduled job.

Log lines keep their format (`logs.py`) and gain, inside each invocation, the Lambda
function name, Lambda's request id and whether this invocation started the process
(`coldStart`), so a slow first request can be told from a slow route.

Metrics are CloudWatch embedded metric format (EMF) lines written by Powertools for
AWS Lambda: CloudWatch turns them into metrics when they reach the log group, with no
API call and no IAM grant. Per route (dimension `route` = "GET /users/{user}"):
`latency` (ms) and `errors` (1 for a 5xx answer, else 0: the average is the error
rate); per job (dimension `job`): each count the job reports and `durationMs`. Each
line also carries `coldStart` as a plain property. They are written only when `METRICS_NAMESPACE` is set, as the
deployed template does; locally and in tests nothing is emitted, and Powertools is not
even imported. Its import costs about 10 ms of CPU on the first metric of a process
(measured in docs/operations.md, which also says why Powertools' tracer is not used).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

from chalicelib import logs

_state = {"cold": True}


def _enabled() -> tuple[str, str] | None:
    namespace = os.environ.get("METRICS_NAMESPACE", "")
    if not namespace:
        return None
    return namespace, os.environ.get("METRICS_SERVICE", "wildduck")


def invocation_fields(context: Any) -> dict[str, Any]:
    """Log fields of one invocation; `coldStart` is true for the first of the process."""
    fields: dict[str, Any] = {"coldStart": _state["cold"]}
    name = getattr(context, "function_name", None)
    request = getattr(context, "aws_request_id", None)
    if name:
        fields["functionName"] = name
    if request:
        fields["awsRequestId"] = request
    return fields


@contextmanager
def invocation(context: Any) -> Iterator[dict[str, Any]]:
    """Bind the invocation's fields to every log line inside; the process is warm after."""
    fields = invocation_fields(context)
    try:
        with logs.bound(**fields):
            yield fields
    finally:
        _state["cold"] = False


def _emit(dimension: str, value: str, values: dict[str, tuple[str, float]],
          cold_start: bool) -> None:
    settings = _enabled()
    if settings is None:
        return
    from aws_lambda_powertools.metrics import EphemeralMetrics
    metrics = EphemeralMetrics(namespace=settings[0], service=settings[1])
    metrics.add_dimension(name=dimension, value=value)
    for name, (unit, amount) in values.items():
        metrics.add_metric(name=name, unit=unit, value=amount)
    # A property of the line, not a metric: every metric of every route is billed
    # monthly, and cold starts are counted from the logs (docs/operations.md).
    metrics.add_metadata(key="coldStart", value=cold_start)
    metrics.flush_metrics()


def route_metrics(route: str, status: int, latency_ms: float, cold_start: bool) -> None:
    """One EMF line for a request: its latency and whether it failed."""
    _emit("route", route, {"latency": ("Milliseconds", latency_ms),
                           "errors": ("Count", 1.0 if status >= 500 else 0.0)}, cold_start)


def job_metrics(job: str, summary: dict[str, int], duration_ms: float,
                cold_start: bool) -> None:
    """One EMF line for a scheduled run: the work it reports, its duration."""
    values = {name: ("Count", float(amount)) for name, amount in summary.items()}
    values["durationMs"] = ("Milliseconds", duration_ms)
    _emit("job", job, values, cold_start)
