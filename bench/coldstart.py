"""Cold-start benchmark: what a new Lambda process pays to import the app.

    python -m bench.coldstart                      # source tree + package (built if needed)
    python -m bench.coldstart --zip out/dev/deployment.zip
    python -m bench.coldstart --source-only

1. Source tree: `import app` against `import boto3` (the floor every Python function
   that talks to AWS pays), and the import plus what a first request adds (pydantic and
   one route's request model, which routes load lazily), each in fresh processes,
   interleaved so that a busy machine slows all alike. CPU time of the importing
   process is the figure compared (wall time is printed too; it swings with other load
   on a shared machine).
2. The deployment package: unzipped to a temporary directory and imported the way
   Lambda does, from that directory alone (`-I -S`: no site-packages, no user paths),
   first from source only, as chalice ships it (Lambda's /var/task is read-only, so
   nothing compiled is ever cached), then after compiling it as `make package` does
   (unchecked-hash .pyc). Run with the runtime's Python version (3.11).
"""
from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from py_compile import PycInvalidationMode

ROOT = Path(__file__).resolve().parent.parent
ENV = {"STAGE": "local", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
       "AWS_SECRET_ACCESS_KEY": "bench", "PYTHONDONTWRITEBYTECODE": "1",
       "PATH": os.environ.get("PATH", "")}
TIMER = ("import sys, time; sys.path.insert(0, {path!r}); c = time.process_time(); "
         "w = time.perf_counter(); {statement}; "
         "print(time.process_time() - c, time.perf_counter() - w)")
# What a cold process runs: the import alone, and the import plus what the first request
# loads on top of it (pydantic and the route's request model, api/http.schema_model).
STATEMENTS = {
    "app": "import app",
    "boto3": "import boto3",
    "app + first request": "import app; import chalicelib.validation; "
                           "from chalicelib.api.http import schema_model; "
                           "schema_model('users.UpdateUser')",
}


def _once(statement: str, path: Path, isolated: bool) -> tuple[float, float]:
    flags = ["-I", "-S", "-B"] if isolated else ["-B"]
    code = TIMER.format(path=str(path), statement=statement)
    out = subprocess.run([sys.executable, *flags, "-c", code], cwd=path, env=ENV,
                         capture_output=True, text=True, check=True)
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def compare(path: Path, repeats: int, isolated: bool) -> dict[str, tuple[float, float]]:
    """Median (cpu, wall) seconds of each statement, runs interleaved."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in STATEMENTS}
    for _ in range(repeats):
        for name, statement in STATEMENTS.items():
            samples[name].append(_once(statement, path, isolated))
    return {name: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
            for name, runs in samples.items()}


def _report(label: str, result: dict[str, tuple[float, float]]) -> None:
    boto = result["boto3"]
    print(f"{label}: boto3 {boto[0] * 1000:.0f} ms cpu ({boto[1] * 1000:.0f} wall)")
    for name in ("app", "app + first request"):
        cpu, wall = result[name]
        print(f"  {name:<22} {cpu * 1000:6.0f} ms cpu ({wall * 1000:5.0f} wall)   "
              f"ratio {cpu / boto[0]:.2f} cpu, {wall / boto[1]:.2f} wall")


def _package_zip(explicit: Path | None) -> Path:
    if explicit:
        return explicit
    out = ROOT / "out" / "bench"
    subprocess.run([sys.executable, "-m", "infra.package", "--stage", "dev", "--region",
                    "us-east-1", "--out", str(out), "--no-bytecode"], cwd=ROOT, check=True,
                   capture_output=True)
    return out / "deployment.zip"


def bench_package(zip_path: Path, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            names = [n for n in archive.namelist() if not n.endswith(".pyc")]
            archive.extractall(root, members=names)
        for cache in list(root.rglob("__pycache__")):
            for file in cache.iterdir():
                file.unlink()
            cache.rmdir()
        _report("package, source only", compare(root, repeats, isolated=True))
        compileall.compile_dir(root, quiet=2, workers=0,
                               invalidation_mode=PycInvalidationMode.UNCHECKED_HASH)
        _report("package, precompiled (.pyc)", compare(root, repeats, isolated=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--zip", type=Path, help="deployment.zip to measure")
    parser.add_argument("--source-only", action="store_true")
    args = parser.parse_args(argv)
    # Warm the tree's own bytecode cache once, as a developer's checkout has it.
    subprocess.run([sys.executable, "-c", "import app, boto3"], cwd=ROOT,
                   env={**ENV, "PYTHONDONTWRITEBYTECODE": ""}, check=True, capture_output=True)
    _report("source tree (cached .pyc)", compare(ROOT, args.repeats, isolated=False))
    if not args.source_only:
        bench_package(_package_zip(args.zip), args.repeats)


if __name__ == "__main__":
    main()
