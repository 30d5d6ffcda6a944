"""Schemathesis hooks: point generated requests at live data, and count every answer.

Generated ids almost never exist, so without help nearly every route would stop at its
first 404. Before each call, a path id (or `moveTo`, a login...) that is well-formed
is replaced, with probability FUZZ_LIVE_SHARE, by one of a seeded "world": an account
with mailboxes, messages (one with an attachment), an archived message, an alias and
an application password. Malformed values are left alone, so negative cases stay
negative. Answers that change the world invalidate what they touched; the world is
rebuilt when its account is deleted and every FUZZ_WORLD_CALLS calls (a fuzzer also
disables accounts, sets quotas to 0, enables 2FA...).

Answers to generated cases are counted by status and error code in FUZZ_STATS (the
run's report has every answer; fuzz/run.py reads 5xx from there).

Configured by the environment (fuzz/run.py sets it): FUZZ_BASE_URL, FUZZ_TOKEN,
FUZZ_SEED, FUZZ_STATS, FUZZ_LIVE_SHARE, FUZZ_WORLD_CALLS.
"""
from __future__ import annotations

import atexit
import base64
import json
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis

BASE = os.environ.get("FUZZ_BASE_URL", "http://127.0.0.1:8280")
TOKEN = os.environ.get("FUZZ_TOKEN", "")
LIVE_SHARE = float(os.environ.get("FUZZ_LIVE_SHARE", "0.8"))
WORLD_CALLS = int(os.environ.get("FUZZ_WORLD_CALLS", "200"))
STATS_PATH = os.environ.get("FUZZ_STATS")
PASSWORD = "fuzz-secret-pass"

_rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_session = requests.Session()
_session.headers["X-Access-Token"] = TOKEN


def _call(method: str, path: str, body: Any = None, **kw: Any) -> Any:
    """A set-up call; it must succeed, or the world is not what the hooks think."""
    response = _session.request(method, BASE + path, json=body, timeout=60, **kw)
    if response.status_code != 200:
        raise RuntimeError(f"fuzz set-up {method} {path}: {response.status_code} "
                           f"{response.text[:300]}")
    return response.json()


def _message(subject: str, attachment: bool = False) -> bytes:
    headers = (f"From: Fuzz <fuzz@example.com>\r\nTo: someone@example.com\r\n"
               f"Subject: {subject}\r\nMessage-ID: <{_rng.getrandbits(64):x}@example.com>\r\n"
               "MIME-Version: 1.0\r\n")
    if not attachment:
        return (headers + "Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n").encode()
    part = base64.b64encode(b"attached bytes").decode()
    return (headers + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n"
            "--b1\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="a.bin"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{part}\r\n--b1--\r\n").encode()


@dataclass
class World:
    """One seeded account and what the hooks know of it (refreshed lazily)."""

    number: int
    user: str = ""
    username: str = ""
    address: str = ""
    mailboxes: list[str] = field(default_factory=list)
    custom: list[str] = field(default_factory=list)
    uids: dict[str, list[int]] = field(default_factory=dict)
    archived: list[str] | None = None
    asps: list[str] | None = None
    addresses: list[str] | None = None
    calls: int = 0
    dead: bool = False

    def build(self) -> "World":
        # a name the fuzzer will not have taken (it reuses names it saw in answers)
        tag = f"{self.number}x{_rng.getrandbits(32):08x}"
        self.username = f"fuzzworld{tag}"
        self.address = f"fuzzworld{tag}@example.com"
        self.user = _call("POST", "/users", {"username": self.username, "password": PASSWORD,
                                             "address": self.address})["id"]
        for path in ("Work", "Work/Projects"):
            _call("POST", f"/users/{self.user}/mailboxes", {"path": path})
        self.refresh_mailboxes()
        inbox = self.mailboxes[0]
        self.upload(inbox, attachment=True)
        gone = self.upload(inbox)
        _call("DELETE", f"/users/{self.user}/mailboxes/{inbox}/messages/{gone}")
        _call("POST", f"/users/{self.user}/asps", {"description": "fuzz", "scopes": ["imap"]})
        _call("POST", f"/users/{self.user}/addresses", {"address": f"alias{tag}@example.com"})
        return self

    def upload(self, mailbox: str, attachment: bool = False) -> int:
        raw = _message(f"fuzz {self.number}", attachment)
        stored = _call("POST", f"/users/{self.user}/mailboxes/{mailbox}/messages", data=raw,
                       headers={"Content-Type": "message/rfc822"})
        self.uids.pop(mailbox, None)
        return int(stored["message"]["id"])

    def refresh_mailboxes(self) -> None:
        boxes = _call("GET", f"/users/{self.user}/mailboxes")["results"]
        self.mailboxes = [box["id"] for box in boxes]
        self.custom = [box["id"] for box in boxes if not box["specialUse"]
                       and box["path"] != "INBOX"]

    def messages_of(self, mailbox: str) -> list[int]:
        if mailbox not in self.uids:
            listing = _call("GET", f"/users/{self.user}/mailboxes/{mailbox}/messages?limit=50")
            self.uids[mailbox] = [item["id"] for item in listing["results"]]
            if len(self.uids[mailbox]) < 2:
                self.upload(mailbox, attachment=True)
                return self.messages_of(mailbox)
        return self.uids[mailbox]

    def listed(self, kind: str) -> list[str]:
        known = getattr(self, kind)
        if known is None:
            path = {"archived": "archived", "asps": "asps", "addresses": "addresses"}[kind]
            known = [item["id"] for item in _call("GET", f"/users/{self.user}/{path}")["results"]]
            setattr(self, kind, known)
        return known

    def forget(self, path: str) -> None:
        """What a successful change under `path` may have made stale."""
        if "/messages" in path or "/archived" in path or "/mailboxes/{mailbox}" in path:
            self.uids.clear()
            self.archived = None
        if path.startswith("/users/{user}/mailboxes"):
            self.refresh_mailboxes()
        if "/asps" in path:
            self.asps = None
        if "/addresses" in path:
            self.addresses = None


class Fuzz:
    def __init__(self) -> None:
        self.worlds = 0
        self.world: World | None = None
        self.statuses: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.setup_errors: Counter[str] = Counter()
        self.calls = 0

    def current(self) -> World:
        if self.world is None or self.world.dead or self.world.calls >= WORLD_CALLS:
            self.worlds += 1
            self.world = World(self.worlds).build()
        self.world.calls += 1
        return self.world

    def save(self) -> None:
        if not STATS_PATH:
            return
        with open(STATS_PATH, "w") as out:
            json.dump({"calls": self.calls, "statuses": dict(self.statuses),
                       "codes": dict(self.codes), "worlds": self.worlds,
                       "setupErrors": dict(self.setup_errors)}, out, indent=1)


FUZZ = Fuzz()
atexit.register(FUZZ.save)


def _live() -> bool:
    """Replace a generated value by a live one?"""
    return _rng.random() < LIVE_SHARE


def _well_formed_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


def _well_formed_uid(value: Any) -> bool:
    if isinstance(value, str):
        return value.isdigit() and 1 <= int(value) < 2**32
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**32


def _point_at_world(case: Any, world: World) -> None:
    path: str = case.operation.path
    params = case.path_parameters
    if params is None:
        params = {}
    if "user" in params and _well_formed_id(params["user"]) and _live():
        params["user"] = world.user
        if "mailbox" in params and _well_formed_id(params["mailbox"]):
            deletes_mailbox = case.method == "DELETE" and path.endswith("/{mailbox}")
            choices = world.custom if deletes_mailbox else world.mailboxes
            if choices:
                params["mailbox"] = _rng.choice(choices)
        if "message" in params:
            if "/archived/" in path:
                archived = world.listed("archived")
                if archived and _well_formed_id(params["message"]):
                    params["message"] = _rng.choice(archived)
            elif params.get("mailbox") in world.mailboxes and \
                    _well_formed_uid(params["message"]):
                uid = _rng.choice(world.messages_of(params["mailbox"]))
                # a target list is a string in the document: keep the generated type
                params["message"] = str(uid) if isinstance(params["message"], str) else uid
        if "attachment" in params and re.fullmatch(r"ATT\d{5,8}", str(params["attachment"])):
            params["attachment"] = "ATT00001"
        for name, kind in (("asp", "asps"), ("address", "addresses")):
            if name in params and _well_formed_id(params[name]):
                known = world.listed(kind)
                if known:
                    params[name] = _rng.choice(known)
    if path == "/addresses/resolve/{address}" and "@" in str(params.get("address")) and _live():
        params["address"] = world.address
    body = case.body if isinstance(case.body, dict) else None
    if body is not None:
        for name in ("moveTo", "mailbox"):
            if _well_formed_id(body.get(name)) and _live():
                body[name] = _rng.choice(world.mailboxes)
        if path == "/authenticate" and case.method == "POST" and _live():
            if isinstance(body.get("username"), str):
                body["username"] = _rng.choice([world.username, world.address])
            if isinstance(body.get("password"), str) and _live():
                body["password"] = PASSWORD


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    try:
        _point_at_world(case, FUZZ.current())
    except Exception as error:  # the case then goes as generated; the count tells
        FUZZ.setup_errors[f"{type(error).__name__}: {error}"[:300]] += 1
        if FUZZ.world is not None:
            FUZZ.world.dead = True


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    FUZZ.calls += 1
    status = response.status_code
    FUZZ.statuses[str(status)] += 1
    try:
        answer = json.loads(response.content) if response.content else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("code"), str):
        FUZZ.codes[f"{status} {answer['code']}"] += 1
    world = FUZZ.world
    if world is not None and case.method != "GET" and status < 300:
        if case.operation.path == "/users/{user}" and case.method == "DELETE" and \
                (case.path_parameters or {}).get("user") == world.user:
            world.dead = True  # deleted for real: the next call builds a new world
        else:
            world.forget(case.operation.path)
    if FUZZ.calls % 100 == 0:
        FUZZ.save()
