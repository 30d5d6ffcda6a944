"""Log lines carry the Lambda context and the cold-start flag; requests and scheduled
jobs emit embedded-metric-format lines when the stage sets METRICS_NAMESPACE."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import observability


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def metrics_on(monkeypatch: Any) -> None:
    monkeypatch.setenv("METRICS_NAMESPACE", "WildDuck")
    monkeypatch.setenv("METRICS_SERVICE", "wildduck-test")


def test_a_request_logs_its_lambda_context_and_emits_route_metrics(api, metrics_on, capsys,
                                                                   monkeypatch):
    monkeypatch.setitem(observability._state, "cold", True)
    capsys.readouterr()
    assert api.get("/users/000000000000000000000000").status == 404
    assert api.get("/users").status == 200
    lines = _lines(capsys.readouterr().out)
    requests = [line for line in lines if line.get("msg") == "request"]
    assert [r["coldStart"] for r in requests] == [True, False]
    assert all(r["functionName"] and r["awsRequestId"] for r in requests)
    assert {"requestId", "method", "route", "status", "latencyMs"} <= set(requests[0])
    emf = [line for line in lines if "_aws" in line]
    assert [e["route"] for e in emf] == ["GET /users/{user}", "GET /users"]
    first = emf[0]
    assert first["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "WildDuck"
    assert first["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["route", "service"]]
    assert first["service"] == "wildduck-test"
    assert first["errors"] == [0.0] and first["coldStart"] is True
    assert [m["Name"] for m in first["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == [
        "latency", "errors"]
    assert first["latency"][0] >= 0


def test_a_failing_request_counts_as_an_error(api, metrics_on, capsys, monkeypatch):
    from chalicelib.services import users

    def explode(*_: Any) -> None:
        raise RuntimeError("boom")
    monkeypatch.setattr(users, "get", explode)
    user = api.post("/users", {"username": "obs", "password": "pw-obs-1"})["id"]
    capsys.readouterr()
    assert api.get(f"/users/{user}").status == 500
    emf = [line for line in _lines(capsys.readouterr().out) if "_aws" in line]
    assert emf[-1]["errors"] == [1.0]


def test_a_scheduled_job_emits_the_work_it_did(app, metrics_on, capsys):
    app.handler_map  # the app is imported
    import app as module

    class Context:
        function_name = "wildduck-test-ExpireMessages"
        aws_request_id = "req-1"

    capsys.readouterr()
    module.expire_messages({"detail-type": "Scheduled Event", "detail": {}, "time": "x",
                            "id": "1", "source": "aws.events", "account": "1",
                            "region": "us-east-1", "resources": [], "version": "0"}, Context())
    lines = _lines(capsys.readouterr().out)
    emf = [line for line in lines if "_aws" in line]
    assert len(emf) == 1 and emf[0]["job"] == "expire_messages"
    assert emf[0]["deleted"] == [0.0] and "durationMs" in emf[0]
    logged = [line for line in lines if line.get("msg") == "expire-messages"]
    assert logged[0]["functionName"] == "wildduck-test-ExpireMessages"
    assert logged[0]["awsRequestId"] == "req-1" and logged[0]["job"] == "expire_messages"


def test_without_a_namespace_nothing_is_emitted(api, capsys, monkeypatch):
    monkeypatch.delenv("METRICS_NAMESPACE", raising=False)
    capsys.readouterr()
    api.get("/users")
    assert not [line for line in _lines(capsys.readouterr().out) if "_aws" in line]
