"""A cold start imports the routes, not every model: pydantic and the request schemas
load with the first request that needs them (api/http.schema_model), the response models
and the OpenAPI builder only with GET /openapi.json."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.api.http import ROUTES, answer_model, schema_model

ROOT = Path(__file__).resolve().parent.parent
LAZY = ("pydantic", "chalicelib.validation", "chalicelib.schemas", "chalicelib.api.responses",
        "chalicelib.api.openapi_document", "pgpy", "qrcode", "argon2")


def test_importing_the_app_loads_no_model_and_no_heavy_library():
    code = ("import json, sys, app; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({LAZY!r}))))")
    env = {**os.environ, "STAGE": "local"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_every_route_names_models_that_exist():
    import app  # noqa: F401 - registers the routes
    assert len(ROUTES) > 40
    for spec in ROUTES:
        if spec.schema is not None:
            assert schema_model(spec.schema).__name__ == spec.schema.rsplit(".", 1)[1]
        if isinstance(spec.response, str):
            assert answer_model(spec.response) is not None
