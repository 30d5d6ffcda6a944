"""24-hex time-ordered ids in the MongoDB ObjectId layout.

4 bytes of seconds, 5 random bytes fixed per process, 3 bytes of a counter: ids sort by
creation second and never collide between concurrent Lambda instances.
"""
from __future__ import annotations

import os
import re
import threading
import time

_PROCESS_BYTES = os.urandom(5)
_lock = threading.Lock()
_counter = int.from_bytes(os.urandom(3), "big")

ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")


def new_id(at: float | None = None) -> str:
    global _counter
    with _lock:
        _counter = (_counter + 1) & 0xFFFFFF
        counter = _counter
    seconds = int(time.time() if at is None else at) & 0xFFFFFFFF
    raw = seconds.to_bytes(4, "big") + _PROCESS_BYTES + counter.to_bytes(3, "big")
    return raw.hex()


def is_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))


def id_time(value: str) -> int:
    """Creation time (epoch seconds) encoded in an id."""
    return int(value[:8], 16)
