"""Packaged templates and the recorded flow, built once per source tree and shared by
the test processes (pytest-xdist workers would otherwise build them once each).

The cache lives in the system temp directory under a hash of every file that shapes
the result, behind a file lock; a changed file means a new build.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from infra.stages import ROOT

INPUTS = ["app.py", "requirements.txt", ".chalice", "chalicelib", "infra", "devstack",
          "tests/infra"]
REGION = "us-east-1"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in INPUTS:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"wildduck-infra-{_fingerprint()}"
    path.mkdir(exist_ok=True)
    return path


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    directory = _cache_dir()
    target = directory / name
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".done").exists():
            target.mkdir(exist_ok=True)
            build(target)
            (target / ".done").write_text("ok")
    return target


def packaged_template(stage: str) -> dict[str, Any]:
    """The stage's production template, as `make package` writes it (without bytecode)."""
    def build(target: Path) -> None:
        out = target / "out"
        subprocess.run([sys.executable, "-m", "infra.package", "--stage", stage, "--region",
                        REGION, "--out", str(out), "--no-bytecode"], cwd=ROOT, check=True,
                       capture_output=True)
    return json.loads((_cached(f"package-{stage}", build) / "out" / "sam.json").read_text())


def template_path(stage: str) -> Path:
    packaged_template(stage)
    return _cache_dir() / f"package-{stage}" / "out" / "sam.json"


def recorded_flow(stage: str) -> dict[str, Any]:
    """tests/infra/flow.py's result for `stage`: every AWS request of the main flow."""
    def build(target: Path) -> None:
        result = subprocess.run([sys.executable, "-m", "tests.infra.flow", "--stage", stage,
                                 "--out", str(target / "flow.json")], cwd=ROOT,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"flow failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads((_cached(f"flow-{stage}", build) / "flow.json").read_text())
