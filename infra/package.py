"""Package one stage: `python -m infra.package --stage prod --region eu-west-1 --out out/prod`.

Writes `<out>/sam.json` (the production template) and `<out>/deployment.zip` (the code,
with precompiled bytecode). Steps:

1. merge infra/tables.yaml and infra/production.yaml into one merge template;
2. `chalice package --stage <stage>` with it (chalice imports the app, so the import
   gets placeholder secrets; the template never contains them: the real values are
   resolved from Secrets Manager by CloudFormation at deploy time);
3. apply the rules of infra/production.py (retention, alarms, log groups, policy);
4. precompile the package's Python files (see `precompile`).
"""
from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from py_compile import PycInvalidationMode
from typing import Any

import yaml

from infra.production import harden
from infra.stages import ROOT, Stage, load

TABLES = ROOT / "infra" / "tables.yaml"
PRODUCTION = ROOT / "infra" / "production.yaml"
CHALICE_POLICY = ROOT / ".chalice" / "policy.json"
# What `.chalice/policy.json` must say: chalice needs a file, the real policy is built
# by infra/policy.py. A grant added there would be silently replaced, so refuse it.
PLACEHOLDER_SID = "ReplacedByInfraPolicy"
# Values that let chalice import the app at packaging time; never deployed.
_IMPORT_ONLY_SECRETS = {"CURSOR_SECRET": "packaging-only-" + "x" * 32,
                        "ACCESS_TOKEN": "packaging-only-token"}
LAMBDA_ROOT = "/var/task"
OUTPUTS = {"sam.json", "deployment.zip"}


class PackageError(RuntimeError):
    """The stage cannot be packaged as the repository stands."""


def merge(base: Any, extra: Any, path: str = "") -> Any:
    """Deep merge of two template fragments; a value set differently in both is an
    error (the two files must not fight over a property)."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = merge(base[key], value, f"{path}/{key}") if key in base else value
        return merged
    if base != extra:
        raise PackageError(f"{path}: set differently in tables.yaml and production.yaml")
    return base


def merge_template() -> dict[str, Any]:
    return merge(yaml.safe_load(TABLES.read_text()), yaml.safe_load(PRODUCTION.read_text()))


def check_chalice_policy() -> None:
    document = json.loads(CHALICE_POLICY.read_text())
    sids = [statement.get("Sid") for statement in document.get("Statement", [])]
    if sids != [PLACEHOLDER_SID]:
        raise PackageError(
            ".chalice/policy.json must hold only the placeholder statement "
            f"{PLACEHOLDER_SID!r}: grants are built by infra/policy.py "
            "(see docs/operations.md, 'Adding resources')")


def run_chalice(stage: Stage, region: str, out: Path, merge_file: Path) -> None:
    env = {**os.environ, **_IMPORT_ONLY_SECRETS, "AWS_DEFAULT_REGION": region}
    env.pop("AWS_ENDPOINT_URL", None)
    command = [sys.executable, "-c", "import sys; from chalice.cli import main; "
               "sys.argv[0] = 'chalice'; sys.exit(main())",
               "package", "--stage", stage.name, "--merge-template", str(merge_file),
               "--template-format", "json", str(out)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stdout}{result.stderr}")


def _check_no_placeholders(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    for value in _IMPORT_ONLY_SECRETS.values():
        if value in text:
            raise PackageError("a packaging-only secret reached the template")


def precompile(zip_path: Path, runtime: str) -> tuple[int, int]:
    """Add bytecode to the deployment package. Lambda's /var/task is read-only, so
    Python cannot cache what it compiles: without .pyc files every cold start compiles
    every module it imports (botocore included). The .pyc are unchecked-hash ones:
    valid whatever the file times are after Lambda unpacks the zip. They must come from
    the runtime's own Python version, else Python ignores them. Returns (files
    compiled, files that failed to compile; those stay source-only)."""
    wanted = runtime.removeprefix("python")
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted != running:
        raise PackageError(f"bytecode for {runtime} needs Python {wanted}, this is {running}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        modes: dict[str, int] = {}
        with zipfile.ZipFile(zip_path) as source:
            for info in source.infolist():
                modes[info.filename] = info.external_attr
            source.extractall(root)
        sources = sum(1 for _ in root.rglob("*.py"))
        ok = compileall.compile_dir(root, quiet=2, ddir=LAMBDA_ROOT, workers=0,
                                    invalidation_mode=PycInvalidationMode.UNCHECKED_HASH)
        compiled = sum(1 for _ in root.rglob("*.pyc"))
        rebuilt = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                name = path.relative_to(root).as_posix()
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = modes.get(name, 0o644 << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, path.read_bytes())
        rebuilt.replace(zip_path)
    return compiled, 0 if ok else sources - compiled


def package(stage_name: str, region: str, out: Path, bytecode: bool = True) -> dict[str, Any]:
    """Package `stage_name` into `out`; returns a summary for the caller to print."""
    stage = load(stage_name)
    check_chalice_policy()
    if out.exists():
        unexpected = [p.name for p in out.iterdir() if p.name not in OUTPUTS]
        if unexpected:
            raise PackageError(f"{out} holds other files ({unexpected[:3]}); refusing to "
                               "replace it")
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as tmp:
        merge_file = Path(tmp) / "merge.json"
        merge_file.write_text(json.dumps(merge_template()))
        run_chalice(stage, region, out, merge_file)
    template_path = out / "sam.json"
    template = harden(json.loads(template_path.read_text()), stage)
    _check_no_placeholders(template)
    # Compact: CloudFormation refuses templates over 1 MB, and every route adds a
    # method per HTTP verb (its own and the 405 answers); indentation alone was a third
    # of the size. `python -m json.tool` shows it indented.
    template_path.write_text(json.dumps(template, sort_keys=True, separators=(",", ":")) + "\n")
    summary: dict[str, Any] = {"stage": stage.name, "region": region,
                               "template": str(template_path),
                               "resources": len(template["Resources"])}
    zip_path = out / "deployment.zip"
    if bytecode:
        runtime = template["Resources"]["APIHandler"]["Properties"]["Runtime"]
        summary["compiled"], summary["notCompiled"] = precompile(zip_path, runtime)
    summary["zip"] = str(zip_path)
    summary["zipBytes"] = zip_path.stat().st_size
    summary["zipSha256"] = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="skip precompiling (tests that only need the template)")
    args = parser.parse_args(argv)
    try:
        summary = package(args.stage, args.region, args.out, bytecode=not args.no_bytecode)
    except (PackageError, ValueError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
