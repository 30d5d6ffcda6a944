"""Test set-up: moto in-process, tables built once per process from infra/tables.yaml
and emptied after every test.

The environment is fixed before the app is imported: PynamoDB binds table names when
model classes are created, and chalice.test.Client only applies stage variables
during a call.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterator

os.environ.update({
    "STAGE": "local",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "TABLE_PREFIX": "test-",
    "MAIL_BUCKET": "test-mail",
    "KMS_KEY_ID": "alias/wildduck-test",
    "DEFAULT_DOMAIN": "example.com",
    "PASSWORD_HASH_PROFILE": "fast",
    "UPDATES_WAIT_S": "0.5",  # an updates long-poll with nothing new answers quickly
    "UPDATES_POLL_S": "0.1",
})
os.environ.pop("ACCESS_TOKEN", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.config import reset_settings, settings  # noqa: E402
from devstack.motopatch import install as install_moto_patch  # noqa: E402
from devstack.sent import clear_in_process as clear_sent_mail  # noqa: E402
from devstack.tables import (create_all, ensure_kms_key, ensure_ses_identity,  # noqa: E402
                             truncate_all)


@pytest.fixture(scope="session")
def aws_account() -> Iterator[None]:
    """One moto account per test process, with every table built from the template."""
    install_moto_patch()
    with mock_aws():
        reset_settings()
        config = settings()
        create_all(config.table_prefix, config.mail_bucket, config.region)
        ensure_kms_key(config.kms_key_id, config.region)
        ensure_ses_identity(config.ses_identity, config.region)
        yield


@pytest.fixture(autouse=True)
def aws(aws_account: None) -> Iterator[None]:
    """Every test starts from empty tables and an empty bucket."""
    reset_settings()
    yield
    reset_settings()
    config = settings()
    truncate_all(config.table_prefix, config.mail_bucket, config.region)
    clear_sent_mail(config.region)


@pytest.fixture
def serialized_aws() -> Iterator[None]:
    """Let threads race between AWS calls while each call stays atomic.

    In-process moto is not thread-safe, but DynamoDB applies each request (and each
    transaction) atomically; serializing calls models exactly that, so concurrency
    tests exercise the interleavings that matter: read, then conditional write.
    """
    import threading
    from unittest import mock

    from botocore.client import BaseClient

    lock = threading.Lock()
    original = BaseClient._make_api_call

    def atomic(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            return original(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", atomic):
        yield


@pytest.fixture
def app() -> Any:
    from app import app as chalice_app
    return chalice_app


class Api:
    """A thin JSON client over chalice.test.Client for readable tests."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> "Reply":
        all_headers = {"content-type": "application/json", **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        return Reply(response)

    def get(self, path: str, **kw: Any) -> "Reply":
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> "Reply":
        return self.call("POST", path, body if body is not None else {}, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> "Reply":
        return self.call("PUT", path, body if body is not None else {}, **kw)

    def delete(self, path: str, **kw: Any) -> "Reply":
        return self.call("DELETE", path, **kw)


class Reply:
    def __init__(self, response: Any) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.raw = response.body
        try:
            self.json = json.loads(response.body) if response.body else None
        except ValueError:
            self.json = None

    def __getitem__(self, key: str) -> Any:
        return self.json[key]

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.raw[:300]!r}>"


def new_client(app: Any) -> Client:
    """A chalice test client that adds no stage variables: the tests' environment rules.

    (Given the project directory, the client would apply the `dev` stage's variables
    during each call, behind the back of the settings the tests configured.)
    """
    return Client(app, stage_name="test", project_dir=os.path.dirname(__file__))


@pytest.fixture
def api(app: Any) -> Iterator[Api]:
    with new_client(app) as client:
        yield Api(client)


@pytest.fixture
def make_user(api: Api) -> Any:
    def create(username: str = "alice", password: str = "secret-pass", **fields: Any) -> str:
        reply = api.post("/users", {"username": username, "password": password, **fields})
        assert reply.status == 200, reply
        return reply["id"]
    return create


@pytest.fixture
def account(make_user: Any) -> Any:
    """An account with its default mailboxes (ids by path) and a main address."""
    from tests.support import Account, mailbox_ids
    user_id = make_user("mailuser", address="mailuser@example.com")
    return Account(user_id, mailbox_ids(user_id))
