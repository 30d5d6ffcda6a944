"""How the local stack stops: Ctrl-C within seconds, a second Ctrl-C at once.

The runner owns child processes (the API server, the job runner) and the moto server
thread. On the first SIGINT or SIGTERM it asks the children to stop, gives them a short
grace period, kills what is left, and leaves without the interpreter's tidy exit: the
tables are in memory and about to be discarded, and freeing a large heap object by
object took many seconds. A second signal, at any point, kills the children and leaves
at once. Local tooling only; never shipped.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from typing import Callable

GRACE_S = 3.0  # children get this long to stop by themselves


class Shutdown:
    """Signal handling and child processes of the runner."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []
        self.cleanups: list[Callable[[], None]] = []  # also run on a hard exit
        self.requested = False
        self._stopping = False

    def install(self) -> "Shutdown":
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        return self

    def track(self, child: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.children.append(child)
        return child

    def _on_signal(self, *_: object) -> None:
        # Runs on the main thread between two bytecodes, maybe while it holds a lock:
        # it flips a flag and takes no lock (an Event here could deadlock).
        if self.requested or self._stopping:
            self.hard_exit(130)
        self.requested = True

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds` (less once a stop is asked for); True after a stop."""
        deadline = time.monotonic() + seconds
        while not self.requested and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return self.requested

    def stop_children(self, grace: float = GRACE_S) -> None:
        """SIGTERM every live child, wait up to `grace` in all, then SIGKILL the rest."""
        self._stopping = True
        for child in self.children:
            if child.poll() is None:
                with suppress(ProcessLookupError):
                    child.terminate()
        deadline = time.monotonic() + grace
        for child in self.children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    child.kill()
                child.wait()

    def _cleanup(self) -> None:
        for cleanup in self.cleanups:
            with suppress(Exception):
                cleanup()

    def hard_exit(self, code: int) -> None:
        """Kill every child and leave now (the second Ctrl-C)."""
        for child in self.children:  # os.kill, not Popen.kill: no lock in a handler
            with suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 1.0
        for child in self.children:  # reap them: no orphan outlives the runner
            with suppress(ChildProcessError):
                while not os.waitpid(child.pid, os.WNOHANG)[0] and \
                        time.monotonic() < deadline:
                    time.sleep(0.01)
        self._cleanup()
        with suppress(Exception):
            sys.stdout.flush()
        os._exit(code)

    def exit(self, code: int) -> None:
        """Leave after an orderly stop, skipping the interpreter's teardown."""
        self._cleanup()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def in_background(action: Callable[[], None], timeout: float) -> None:
    """Run `action`, giving up on it after `timeout` seconds (it keeps running on a
    daemon thread that the exit ends)."""
    worker = threading.Thread(target=action, daemon=True)
    worker.start()
    worker.join(timeout)
