"""The HTTP edge through `chalice local` (devstack.run), and the CI-sized fuzzing run.

One stack for the module. The error shape is checked where the test client cannot:
chalice local's own router and HTTP server (unknown paths, headers on the wire).
Then Schemathesis runs every check against the same stack (fuzz/run.py, seed 1,
a few cases an operation): no answer may be a 5xx, and every answer must match the
OpenAPI document.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Iterator

import pytest
import requests

from fuzz import run as fuzz_run
from fuzz.stack import local_stack


@pytest.fixture
def aws() -> Iterator[None]:
    """This module talks to its own moto server, not the in-process mock."""
    yield


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    out = tmp_path_factory.mktemp("edge")
    token = secrets.token_hex(8)
    with local_stack(token, out / "stack.log") as url:
        yield url, token, out


def _error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
    body = response.json()
    assert body["code"] == code and body["error"]
    return body


@pytest.mark.parametrize("path", ["/", "/nothere", "/users/000000000000000000000000/x/y"])
def test_unknown_route_is_json_404_locally(stack, path):
    url, _, _ = stack
    _error(requests.get(url + path, timeout=30), 404, "RouteNotFound")


def test_wrong_method_is_json_405_with_allow_locally(stack):
    url, _, _ = stack
    response = requests.patch(url + "/users", json={}, timeout=30)
    _error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET, POST"


def test_wrong_content_type_is_json_415_locally(stack):
    url, token, _ = stack
    response = requests.post(url + "/users", data="<user/>", timeout=30,
                             headers={"content-type": "application/xml",
                                      "x-access-token": token})
    _error(response, 415, "UnsupportedMediaType")


def test_success_and_token_errors_state_json_locally(stack):
    url, token, _ = stack
    _error(requests.get(url + "/users", timeout=30), 403, "InvalidToken")
    listing = requests.get(url + "/users", headers={"x-access-token": token}, timeout=30)
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("application/json")


def test_ci_sized_fuzzing_finds_no_server_error_and_no_schema_violation(stack):
    url, token, out = stack
    code = fuzz_run.run(["--url", url, "--token", token, "--seed", "1",
                         "--out", str(out / "fuzz")])
    summary = json.loads((out / "fuzz" / "summary.json").read_text())
    assert summary["cases"] > 300, summary["statuses"]
    assert summary["serverErrors"] == [], summary["serverErrors"]
    assert summary["gatingFailures"] == {}, summary["failureExamples"]
    assert "response_schema_conformance" not in summary["checkFailures"]
    assert code == 0
