"""Keep Python's cyclic garbage collector from stalling the local stack's processes.

The moto server holds every table in Python objects: after a day of requests, millions
of them. CPython's full collection walks every tracked object while holding the GIL, so
each one stalls every request in flight, for longer as the tables grow (seconds after
thousands of requests). Almost all of those objects live until the stack stops, and
items are freed by reference counting when deleted (they hold no cycles).

`GcKeeper` therefore collects on a short period and then freezes what survived
(`gc.freeze`): frozen objects are never walked again, so every collection only walks
what was allocated since the last period, and its cost stays flat however large the
tables grow. The price is that a reference cycle formed later among frozen objects is
never reclaimed; in this stack that is a few request objects caught in flight by a
freeze. Local tooling only; never shipped.
"""
from __future__ import annotations

import gc
import os
import threading
import time
from typing import Callable

DEFAULT_PERIOD_S = 10.0


class GcKeeper:
    """A daemon thread: collect, then freeze the survivors, every `period` seconds."""

    def __init__(self, period: float | None = None,
                 report: Callable[[float], None] | None = None) -> None:
        self.period = period if period is not None else float(
            os.environ.get("LOCAL_GC_PERIOD", DEFAULT_PERIOD_S))
        self.report = report  # receives the seconds of each pass, for diagnostics
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-keeper", daemon=True)

    def start(self) -> "GcKeeper":
        """Freeze what exists now (imports, start-up state), then keep freezing."""
        self.step()
        if self.period > 0:
            self._thread.start()
        return self

    def step(self) -> float:
        """One pass; returns its duration in seconds."""
        started = time.perf_counter()
        gc.collect()
        gc.freeze()
        spent = time.perf_counter() - started
        self.longest = max(self.longest, spent)
        if self.report is not None:
            self.report(spent)
        return spent

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.step()

    def stop(self) -> None:
        self._stop.set()
