"""Structured logs: one JSON object per line, so CloudWatch Insights can query fields.

Only values chosen by the code are logged: never request bodies, passwords, hashes,
tokens or seeds. As a safety net every line is also scrubbed on its way out: fields named
like a secret, `name=value` pairs of secret parameters (a URL's `?accessToken=`), bearer
credentials and the configured secrets themselves are replaced by `[redacted]`. Under
`chalice local` the development server's own access line (which prints the whole URL,
query string included) gets the same treatment.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator

_logger = logging.getLogger("wildduck")
# Fields every line of the current request (or job) carries, such as its requestId, so
# a service's warning can be found next to the request that caused it.
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_context",
                                                                          default={})

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"(?i)(token|password|passwd|secret|seed|hash|authorization)")
_SECRET_PARAM = re.compile(
    r"(?i)\b((?:access_?)?token|password|passwd|secret|seed)=([^&\s\"'#]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def _configured_secrets() -> list[str]:
    """The deployment's own secrets, so that no code path can print them verbatim."""
    try:
        from chalicelib.config import settings
        config = settings()
    except Exception:  # a stage that does not load has nothing to protect yet
        return []
    return [value for value in (config.access_token, config.cursor_secret) if len(value) >= 6]


def redact(text: str) -> str:
    """`text` with secret query parameters, bearer credentials and configured secrets
    replaced, for anything that may end up in a log."""
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    for secret in _configured_secrets():
        text = text.replace(secret, REDACTED)
    return text


def _scrub(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: REDACTED if _SECRET_NAME.search(key) else value
            for key, value in fields.items()}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        entry.update(_scrub({**_context.get(), **getattr(record, "fields", {})}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


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


def redact_local_server_log() -> None:
    """Make `chalice local`'s access line (`"GET /users?accessToken=... HTTP/1.1" 200`)
    go through `redact`. Only when the development server is loaded: never in Lambda."""
    local = sys.modules.get("chalice.local")
    handler = getattr(local, "ChaliceRequestHandler", None)
    if handler is None or getattr(handler, "_wildduck_redacted", False):
        return
    original = handler.log_message

    def log_message(self: Any, format: str, *args: Any) -> None:
        original(self, format, *(redact(arg) if isinstance(arg, str) else arg for arg in args))

    handler.log_message = log_message
    handler._wildduck_redacted = True


redact_local_server_log()


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add `fields` to every line logged inside the block (this thread or task only)."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


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
