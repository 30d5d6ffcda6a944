"""The edge's own answers for requests no route takes: wrong method (405) and unknown
path (404), both in the `{error, code}` shape.

Left alone, Chalice answers a wrong method with its own `{Code, Message}` 405, and an
unknown path never reaches the function: `chalice local` and the test client answer 403
"Missing Authentication Token", like API Gateway. So, once every route is registered:

- each path gets the methods it lacks, answered 405 with `Allow`. This is also what
  makes a deployed wrong method reach the function: API Gateway treats a method a
  resource lacks as an unknown route.
- catch-all paths of 1 to `CATCH_ALL_DEPTH` variable segments answer 404
  `RouteNotFound`. Chalice 1.34 has no greedy path locally (its local router matches
  `{proxy+}` against one segment only), so depths are spelled out; deeper paths keep
  the local 403. Both routers prefer literal segments, so real routes always win.
  Deployed, API Gateway answers paths it cannot route with the gateway responses of
  infra/tables.yaml (404 `RouteNotFound` in the same shape).

Neither answer checks the access token: API Gateway gives them before any check too,
and they reveal nothing the OpenAPI document does not.
"""
from __future__ import annotations

from typing import Any, Callable

from chalice import Chalice, Response

from chalicelib.api.http import respond
from chalicelib.errors import MethodNotAllowed, RouteNotFound

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CATCH_ALL_DEPTH = 16


def _not_allowed(app: Chalice, allowed: list[str]) -> Callable[..., Response]:
    def view(**_path: str) -> Response:
        request = app.current_request

        def refuse(_ctx: Any) -> Any:
            raise MethodNotAllowed(request.method, allowed)
        return respond(request, refuse, access=False)
    return view


def _not_found(app: Chalice) -> Callable[..., Response]:
    def view(**_path: str) -> Response:
        def refuse(_ctx: Any) -> Any:
            raise RouteNotFound()
        return respond(app.current_request, refuse, access=False)
    return view


def catch_all_paths(depth: int = CATCH_ALL_DEPTH) -> list[str]:
    return ["/" + "/".join(f"{{any{level}}}" for level in range(1, count + 1))
            for count in range(1, depth + 1)]


def complete_routes(app: Chalice) -> None:
    """Call once, after every route is registered."""
    for path, entries in list(app.routes.items()):
        allowed = sorted(entries)
        missing = [method for method in METHODS if method not in entries]
        if missing:
            app.route(path, methods=missing, content_types=["*/*"],
                      name="method_not_allowed")(_not_allowed(app, allowed))
    not_found = _not_found(app)
    for path in catch_all_paths():
        if path not in app.routes:
            app.route(path, methods=list(METHODS), content_types=["*/*"],
                      name="route_not_found")(not_found)
