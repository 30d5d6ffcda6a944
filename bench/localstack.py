"""A working day on the local stack: many ordinary requests, memory and latency.

Starts `devstack.run` (as `make run` does), drives N sequential mixed requests against
it (uploads, flag changes on single uids and `1:*` ranges, moves, deletes, restores,
mailbox create/rename/delete, listings) and prints the peak resident memory of the
stack's process tree (sampled, and the sum of each process's own peak) and the slowest
requests. The workload is seeded, so two runs send the same requests.

    python -m bench.localstack --requests 10000

`LOCAL_PORT_RANGE=8680-8699` keeps the stack's ports inside a range on a shared machine.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

from tests.e2e.stack import TOKEN, StackProcess, running_stack

MB = 1024 * 1024


# ----------------------------------------------------------------- process memory

def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(_children(current))
    return tree


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Resident bytes of the process tree now (VmRSS summed)."""
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid)) * 1024


def tree_breakdown(pid: int) -> list[tuple[str, int]]:
    """(command, resident bytes) of each process in the tree."""
    rows = []
    for member in process_tree(pid):
        try:
            args = Path(f"/proc/{member}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = next((a.decode() for a in args if a.startswith(b"devstack.")), args[0].decode())
        rows.append((name, _status_kb(member, "VmRSS") * 1024))
    return rows


def tree_hwm(pid: int) -> int:
    """Sum of each process's own peak resident bytes (VmHWM): an upper bound of the tree's
    peak, which sampling can miss between two looks."""
    return sum(_status_kb(p, "VmHWM") for p in process_tree(pid)) * 1024


class MemorySampler:
    """Samples the tree's RSS on a thread; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every = pid, every
        self.peak = self.first = tree_rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.pid))


# ----------------------------------------------------------------- the workload

@dataclass
class Timing:
    op: str
    status: int
    seconds: float


@dataclass
class Result:
    requests: int = 0
    timings: list[Timing] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    baseline_rss: int = 0
    peak_rss: int = 0
    peak_hwm: int = 0
    final_rss: int = 0
    processes: list[tuple[str, int]] = field(default_factory=list)  # at the end
    processes_start: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0

    def slowest(self, n: int = 5) -> list[Timing]:
        return sorted(self.timings, key=lambda t: t.seconds, reverse=True)[:n]

    def report(self) -> str:
        times = sorted(t.seconds for t in self.timings) or [0.0]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        lines = [
            f"requests           {self.requests} in {self.seconds:.0f} s "
            f"({self.requests / max(self.seconds, 1e-9):.1f}/s), failures {len(self.failures)}",
            f"stack RSS          start {self.baseline_rss / MB:.0f} MB, "
            f"peak {self.peak_rss / MB:.0f} MB (sampled), end {self.final_rss / MB:.0f} MB, "
            f"sum of process peaks {self.peak_hwm / MB:.0f} MB",
            "by process         " + ", ".join(
                f"{name} {start / MB:.0f} -> {rss / MB:.0f} MB"
                for (name, rss), (_, start) in zip(self.processes, self.processes_start)),
            f"latency            median {statistics.median(times) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms",
            "slowest            " + ", ".join(f"{t.op} {t.seconds * 1000:.0f} ms ({t.status})"
                                              for t in self.slowest()),
        ]
        lines += [f"failure            {failure}" for failure in self.failures[:10]]
        return "\n".join(lines)


RAW = ("From: Sender <sender@example.com>\r\nTo: rcpt@example.com\r\n"
       "Subject: {subject}\r\nMessage-ID: <{mid}@bench.example>\r\n\r\n{body}\r\n")


@dataclass
class Account:
    id: str
    inbox: str
    trash: str
    boxes: dict[str, list[int]]  # mailbox id -> uids the client believes are there
    custom: dict[str, str]  # mailbox id -> path, for the ones the workload made


class Workload:
    """Seeded mixed requests; each op expects an exact answer, anything else is a failure.

    The client keeps its own model of what it stored (which uids live in which
    mailbox), so every request it sends should succeed; sequential requests make the
    model exact.
    """

    WEIGHTS: dict[str, int] = {
        "upload": 28, "flag_range": 8, "flag_one": 8, "move": 7, "delete": 7, "restore": 5,
        "mailbox_create": 3, "mailbox_rename": 2, "mailbox_delete": 2, "list_messages": 10,
        "list_mailboxes": 6, "flagged": 5, "archived": 4, "get_message": 4, "user_create": 1,
    }

    def __init__(self, base: str, seed: int = 1) -> None:
        self.base = base
        self.rng = random.Random(seed)
        self.session = requests.Session()
        self.session.headers["X-Access-Token"] = TOKEN
        self.accounts: list[Account] = []
        self.result = Result()
        self.counter = 0

    # -- plumbing
    def call(self, op: str, method: str, path: str, body: Any = None,
             expect: int = 200) -> Any:
        started = time.monotonic()
        try:
            response = self.session.request(method, self.base + path, json=body, timeout=120)
        except requests.RequestException as error:
            self.result.timings.append(Timing(op, 0, time.monotonic() - started))
            self.result.failures.append(f"{op} {method} {path}: {error!r}")
            return None
        self.result.timings.append(Timing(op, response.status_code,
                                          time.monotonic() - started))
        self.result.requests += 1
        if response.status_code != expect:
            self.result.failures.append(f"{op} {method} {path}: {response.status_code} "
                                        f"{response.text[:200]}")
            return None
        return response.json() if response.content else {}

    def _name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:06d}{self.rng.randrange(10 ** 6):06d}"

    # -- operations
    def user_create(self) -> None:
        created = self.call("user_create", "POST", "/users",
                            {"username": self._name("bench"), "password": "secretpass"})
        if not created:
            return
        listing = self.call("list_mailboxes", "GET", f"/users/{created['id']}/mailboxes")
        if not listing:
            return
        by_use = {b.get("specialUse"): b["id"] for b in listing["results"]}
        inbox = next(b["id"] for b in listing["results"] if b["path"] == "INBOX")
        self.accounts.append(Account(created["id"], inbox, by_use["\\Trash"],
                                     {b["id"]: [] for b in listing["results"]}, {}))

    def _account(self) -> Account:
        return self.rng.choice(self.accounts)

    def _box_with_mail(self, account: Account) -> str | None:
        full = [box for box, uids in account.boxes.items() if uids]
        return self.rng.choice(full) if full else None

    def upload(self) -> None:
        account = self._account()
        box = account.inbox if self.rng.random() < 0.6 else self.rng.choice(list(account.boxes))
        mid = self._name("m")
        body = "line of text\r\n" * self.rng.randrange(1, 60)
        stored = self.call("upload", "POST", f"/users/{account.id}/mailboxes/{box}/messages",
                           {"raw": RAW.format(subject=f"hello {mid}", mid=mid, body=body)})
        if stored:
            account.boxes[box].append(stored["message"]["id"])

    def flag_range(self) -> None:
        account = self._account()
        box = self._box_with_mail(account)
        if box is None:
            return self.upload()
        self.call("flag_range", "PUT", f"/users/{account.id}/mailboxes/{box}/messages/1:*",
                  {"seen": self.rng.random() < 0.5, "flagged": self.rng.random() < 0.5})

    def flag_one(self) -> None:
        account = self._account()
        box = self._box_with_mail(account)
        if box is None:
            return self.upload()
        uid = self.rng.choice(account.boxes[box])
        self.call("flag_one", "PUT", f"/users/{account.id}/mailboxes/{box}/messages/{uid}",
                  {"flagged": self.rng.random() < 0.5})

    def move(self) -> None:
        account = self._account()
        box = self._box_with_mail(account)
        if box is None or len(account.boxes) < 2:
            return self.upload()
        target = self.rng.choice([b for b in account.boxes if b != box])
        uid = self.rng.choice(account.boxes[box])
        moved = self.call("move", "PUT", f"/users/{account.id}/mailboxes/{box}/messages/{uid}",
                          {"moveTo": target})
        if moved:
            account.boxes[box].remove(uid)
            account.boxes[target].extend(new for _, new in moved["id"])

    def delete(self) -> None:
        account = self._account()
        box = self._box_with_mail(account)
        if box is None:
            return self.upload()
        uid = self.rng.choice(account.boxes[box])
        if self.call("delete", "DELETE",
                     f"/users/{account.id}/mailboxes/{box}/messages/{uid}") is not None:
            account.boxes[box].remove(uid)

    def restore(self) -> None:
        account = self._account()
        archived = self.call("archived", "GET", f"/users/{account.id}/archived?limit=20")
        if not archived or not archived["results"]:
            return
        entry = self.rng.choice(archived["results"])
        restored = self.call("restore", "POST",
                             f"/users/{account.id}/archived/{entry['id']}/restore",
                             {"mailbox": account.inbox})
        if restored:
            account.boxes[restored["mailbox"]].append(restored["uid"])

    def mailbox_create(self) -> None:
        account = self._account()
        if len(account.custom) >= 8:
            return self.mailbox_delete()
        path = f"Folders/{self._name('box')}"
        created = self.call("mailbox_create", "POST", f"/users/{account.id}/mailboxes",
                            {"path": path})
        if created:
            account.boxes[created["id"]] = []
            account.custom[created["id"]] = path

    def mailbox_rename(self) -> None:
        account = self._account()
        if not account.custom:
            return self.mailbox_create()
        box = self.rng.choice(list(account.custom))
        path = f"Renamed/{self._name('box')}"
        if self.call("mailbox_rename", "PUT", f"/users/{account.id}/mailboxes/{box}",
                     {"path": path}) is not None:
            account.custom[box] = path

    def mailbox_delete(self) -> None:
        account = self._account()
        if not account.custom:
            return self.mailbox_create()
        box = self.rng.choice(list(account.custom))
        if self.call("mailbox_delete", "DELETE",
                     f"/users/{account.id}/mailboxes/{box}") is not None:
            del account.custom[box]
            del account.boxes[box]

    def list_messages(self) -> None:
        account = self._account()
        box = self.rng.choice(list(account.boxes))
        self.call("list_messages", "GET",
                  f"/users/{account.id}/mailboxes/{box}/messages?limit=50")

    def list_mailboxes(self) -> None:
        self.call("list_mailboxes", "GET", f"/users/{self._account().id}/mailboxes?counters=true")

    def flagged(self) -> None:
        self.call("flagged", "GET", f"/users/{self._account().id}/flagged?limit=50")

    def archived(self) -> None:
        self.call("archived", "GET", f"/users/{self._account().id}/archived?limit=50")

    def get_message(self) -> None:
        account = self._account()
        box = self._box_with_mail(account)
        if box is None:
            return self.upload()
        uid = self.rng.choice(account.boxes[box])
        self.call("get_message", "GET", f"/users/{account.id}/mailboxes/{box}/messages/{uid}")

    def run(self, total: int, progress: Callable[[int], None] | None = None) -> Result:
        """Send `total` requests (a few over, when an op ends in two requests)."""
        while len(self.accounts) < 3 and self.result.requests < total:
            self.user_create()
        ops = list(self.WEIGHTS)
        weights = [self.WEIGHTS[op] for op in ops]
        last = 0
        while self.result.requests < total:
            getattr(self, self.rng.choices(ops, weights)[0])()
            if progress and self.result.requests - last >= 500:
                last = self.result.requests
                progress(last)
            if len(self.result.failures) > 50:
                break
        return self.result


def drive(stack: StackProcess, total: int, seed: int = 1, warmup: int = 0,
          progress: Callable[[int], None] | None = None) -> Result:
    """Run the workload against a started stack; memory is measured from after `warmup`
    requests (the first requests import code and fill caches)."""
    workload = Workload(stack.base, seed)
    if warmup:
        workload.run(warmup)
    baseline = tree_rss(stack.pid)
    at_start = tree_breakdown(stack.pid)
    started = time.monotonic()
    with MemorySampler(stack.pid) as memory:
        result = workload.run(warmup + total, progress)
    result.seconds = time.monotonic() - started
    result.baseline_rss = baseline
    result.peak_rss = memory.peak
    result.peak_hwm = tree_hwm(stack.pid)
    result.final_rss = tree_rss(stack.pid)
    result.processes = tree_breakdown(stack.pid)
    result.processes_start = at_start
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    env = {"PASSWORD_HASH_PROFILE": os.environ.get("PASSWORD_HASH_PROFILE", "fast")}
    with running_stack(env) as stack:
        print(f"stack pid {stack.pid} at {stack.base}; {args.requests} requests "
              f"after {args.warmup} warm-up", flush=True)
        result = drive(stack, args.requests, args.seed, args.warmup,
                       progress=lambda n: print(f"  {n} requests, stack RSS "
                                                f"{tree_rss(stack.pid) / MB:.0f} MB",
                                                flush=True))
        print(result.report(), flush=True)
        if result.failures:
            print("stack output (last lines):\n" + "".join(stack.lines[-30:]), flush=True)
    print(f"stop (SIGINT to exit) {stack.stop_seconds or 0:.1f} s")
    return 1 if result.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
