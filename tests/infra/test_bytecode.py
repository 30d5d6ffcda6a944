"""The package's bytecode step: every module compiled for the runtime, valid whatever
the file times after Lambda unpacks the zip, file modes kept."""
from __future__ import annotations

import importlib.util
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from infra import package as packaging


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "VALUE = 42\n")
        archive.writestr("lib/__init__.py", "")
        tool = zipfile.ZipInfo("lib/tool.so")
        tool.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(tool, b"\x7fELF")


def test_precompile_adds_unchecked_hash_bytecode_and_keeps_modes(tmp_path: Path) -> None:
    path = tmp_path / "deployment.zip"
    _zip(path)
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    compiled, failed = packaging.precompile(path, runtime)
    assert (compiled, failed) == (2, 0)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        tag = sys.implementation.cache_tag
        pyc = archive.read(f"__pycache__/app.{tag}.pyc")
        mode = archive.getinfo("lib/tool.so").external_attr >> 16
    assert {"app.py", "lib/__init__.py", f"lib/__pycache__/__init__.{tag}.pyc"} <= names
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, unchecked
    assert mode & 0o777 == 0o755


def test_bytecode_for_another_runtime_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deployment.zip"
    _zip(path)
    with pytest.raises(packaging.PackageError, match="needs Python 3.99"):
        packaging.precompile(path, "python3.99")


def test_an_out_directory_with_other_files_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(packaging.PackageError, match="other files"):
        packaging.package("dev", "us-east-1", tmp_path, bytecode=False)
    assert (tmp_path / "notes.txt").exists()
