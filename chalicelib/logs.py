"""Structured logs: one JSON object per line, so CloudWatch Insights can query fields.

Only values chosen by the code are logged: never request bodies, passwords, hashes,
tokens or seeds.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_logger = logging.getLogger("wildduck")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StdoutHandler(logging.Handler):
    """Writes to whatever `sys.stdout` is now (Lambda, chalice local, or a test capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def _configure() -> None:
    if _logger.handlers:
        return
    handler = _StdoutHandler()
    handler.setFormatter(_JsonFormatter())
    _logger.addHandler(handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False


def info(msg: str, **fields: Any) -> None:
    _configure()
    _logger.info(msg, extra={"fields": fields})


def warning(msg: str, **fields: Any) -> None:
    _configure()
    _logger.warning(msg, extra={"fields": fields})


def exception(msg: str, **fields: Any) -> None:
    """Log the exception being handled, with its traceback, for operators only."""
    _configure()
    _logger.exception(msg, extra={"fields": fields})
