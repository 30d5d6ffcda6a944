"""The main flow of the API, the updates channel and every scheduled job, run as a
deployed stage against moto, with every AWS request recorded:
`python -m tests.infra.flow --stage prod`.

Runs in a process of its own because the stage's names (tables `wildduck-prod-*`, its
bucket, its key alias) and its secrets must be in the environment before anything
imports the app (PynamoDB binds table names when the models are created). Writes one
JSON document to `--out`: the recorded calls, the KMS key ARN of the stage's alias, the
websocket API id the functions post to and the stream label of each table with a stream
(what the template's references resolve to in this account).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from infra.stages import load

ACCESS_TOKEN = "flow-access-token-0123456789"
# The id API Gateway would give the stack's websocket API (10 characters, as its ids).
WEBSOCKET_API_ID = "flowws0001"
REGION = "us-east-1"


def _environment(stage_name: str) -> None:
    stage = load(stage_name)
    os.environ.update({
        "STAGE": stage.name, "TABLE_PREFIX": stage.table_prefix,
        "MAIL_BUCKET": stage.mail_bucket, "KMS_KEY_ID": stage.kms_alias,
        "ACCESS_TOKEN": ACCESS_TOKEN, "CURSOR_SECRET": "flow-cursor-secret-" + "c" * 32,
        "PASSWORD_HASH_PROFILE": "fast", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        # As the template sets it: the stage's websocket API, at the stage's name.
        "WEBSOCKET_ENDPOINT": f"https://{WEBSOCKET_API_ID}.execute-api.{REGION}.amazonaws.com/"
                              f"{stage.api_stage}",
        # A long-poll that waits (and reads again) without holding the flow for 20 s.
        "UPDATES_WAIT_S": "1", "UPDATES_POLL_S": "0.25"})
    os.environ.pop("AWS_ENDPOINT_URL", None)


class Flow:
    """Requests with the deployment token; every answer must be the expected status."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.steps = 0

    def call(self, method: str, path: str, body: Any = None, *, status: int = 200,
             raw: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        all_headers = {"content-type": "message/rfc822" if raw is not None
                       else "application/json", "X-Access-Token": ACCESS_TOKEN,
                       **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        if response.status_code != status:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.body[:300]!r}")
        self.steps += 1
        try:
            return json.loads(response.body) if response.body else None
        except ValueError:
            return response.body


def _message(subject: str, body: str = "Hello there") -> bytes:
    return ("From: Sender <sender@example.com>\r\nTo: flow@example.com\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject}@example.com>\r\n"
            "Date: Tue, 9 Apr 2024 11:11:33 +0200\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def run_api_flow(flow: Flow) -> str:
    """Returns the id of the account the flow keeps."""
    import pyotp

    user = flow.call("POST", "/users", {"username": "flow", "password": "flow-password-1",
                                        "address": "flow@example.com"})["id"]
    flow.call("GET", f"/users/{user}")
    flow.call("GET", "/users?query=flow")
    flow.call("PUT", f"/users/{user}", {"name": "Flow"})
    login = flow.call("POST", "/authenticate", {"username": "flow@example.com",
                                                "password": "flow-password-1", "token": True})
    flow.call("GET", f"/users/{user}", headers={"X-Access-Token": login["token"]})
    flow.call("POST", "/authenticate", {"username": "flow", "password": "wrong"}, status=403)
    flow.call("GET", f"/users/{user}/authlog")
    address = flow.call("POST", f"/users/{user}/addresses", {"address": "alias@example.com"})
    flow.call("GET", f"/users/{user}/addresses")
    flow.call("GET", "/addresses/resolve/alias@example.com")
    flow.call("GET", "/addresses?query=example")
    flow.call("DELETE", f"/users/{user}/addresses/{address['id']}")
    flow.call("GET", "/users/resolve/flow")
    flow.call("POST", "/preauth", {"username": "flow"})
    forwarded = flow.call("POST", "/addresses/forwarded", {"address": "fwd@example.com",
                                                           "targets": ["x@example.org"]})
    flow.call("PUT", f"/addresses/forwarded/{forwarded['id']}", {"address": "fwd2@example.com"})
    flow.call("DELETE", f"/addresses/forwarded/{forwarded['id']}")
    alias = flow.call("POST", "/domainaliases", {"alias": "example.net", "domain": "example.com"})
    flow.call("GET", "/addresses/resolve/flow@example.net")
    flow.call("GET", "/domainaliases")
    flow.call("DELETE", f"/domainaliases/{alias['id']}")
    gone = flow.call("POST", "/users", {"username": "gone", "password": "gone-password-1"})["id"]
    flow.call("DELETE", f"/users/{gone}")
    flow.call("GET", f"/users/{gone}/restore")
    flow.call("POST", f"/users/{gone}/restore", {})
    flow.call("POST", "/quota/reset", {})

    boxes = {b["path"]: b["id"] for b in flow.call("GET", f"/users/{user}/mailboxes")["results"]}
    inbox, trash = boxes["INBOX"], boxes["Trash"]
    base = f"/users/{user}/mailboxes"
    flow.call("POST", f"{base}/{inbox}/messages", raw=_message("small"))
    flow.call("POST", f"{base}/{inbox}/messages",
              raw=_message("large", "A long line of text. " * 400))
    flow.call("POST", f"{base}/{inbox}/messages", {
        "from": {"address": "a@example.com"}, "to": [{"address": "flow@example.com"}],
        "subject": "composed", "text": "text", "html": "<p>html</p>",
        "attachments": [{"filename": "a.txt", "content": "aGVsbG8="}]},
        headers={"Idempotency-Key": "flow-upload-1"})
    upload = flow.call("POST", f"/users/{user}/uploads", {})
    _put_staged_upload(user, upload["id"])
    flow.call("POST", f"{base}/{inbox}/messages", {"uploadId": upload["id"]})
    flow.call("GET", f"{base}/{inbox}/messages")
    flow.call("GET", f"{base}/{inbox}/messages/1")
    flow.call("GET", f"{base}/{inbox}/messages/2")
    flow.call("GET", f"{base}/{inbox}/messages/1/message.eml", headers={"accept": "*/*"})
    flow.call("GET", f"{base}/{inbox}/messages/3/attachments/ATT00001",
              headers={"accept": "*/*"})
    flow.call("PUT", f"{base}/{inbox}/messages/1:2", {"seen": True, "flagged": True})
    flow.call("GET", f"/users/{user}/flagged")
    moved = flow.call("PUT", f"{base}/{inbox}/messages/2", {"moveTo": trash})
    new_uid = moved["id"][0][1]
    flow.call("GET", f"{base}/{trash}/messages/{new_uid}/events")
    flow.call("PUT", f"{base}/{inbox}/messages/3", {"expires": "2020-01-01T00:00:00Z"})
    flow.call("DELETE", f"{base}/{trash}/messages/{new_uid}")
    archived = flow.call("GET", f"/users/{user}/archived")["results"][0]["id"]
    flow.call("GET", f"/users/{user}/archived/{archived}")
    flow.call("POST", f"/users/{user}/archived/{archived}/restore", {"mailbox": inbox})
    flow.call("POST", f"/users/{user}/quota/reset", {})
    mail = {"to": [{"address": "friend@other.test"}], "subject": "sent", "text": "Hi"}
    flow.call("POST", f"/users/{user}/submit", mail, headers={"Idempotency-Key": "flow-send"})
    draft = flow.call("POST", f"/users/{user}/submit", {**mail, "isDraft": True,
                                                          "uploadOnly": True})["message"]
    flow.call("POST", f"{base}/{draft['mailbox']}/messages/{draft['id']}/submit", {})

    box = flow.call("POST", base, {"path": "Projects/2024"})["id"]
    flow.call("GET", f"{base}/resolve?path=Projects/2024")
    flow.call("PUT", f"{base}/{box}", {"path": "Archive/2024"})
    flow.call("POST", f"{base}/{box}/messages", raw=_message("in-projects"))
    flow.call("DELETE", f"{base}/{box}")

    seed = flow.call("POST", f"/users/{user}/2fa/totp/setup", {})["seed"]
    totp = pyotp.TOTP(seed)
    flow.call("POST", f"/users/{user}/2fa/totp/enable", {"token": totp.now()})
    flow.call("POST", f"/users/{user}/2fa/totp/check", {"token": totp.now()})
    flow.call("POST", f"/users/{user}/2fa/totp/check", {"token": totp.now()}, status=403)
    flow.call("DELETE", f"/users/{user}/2fa/totp")

    asp = flow.call("POST", f"/users/{user}/asps", {"description": "phone",
                                                     "scopes": ["imap", "smtp"]})
    flow.call("POST", "/authenticate", {"username": "flow", "password": asp["password"],
                                        "scope": "imap"})
    flow.call("GET", f"/users/{user}/asps")
    flow.call("DELETE", f"/users/{user}/asps/{asp['id']}")
    flow.call("POST", f"/users/{user}/password/reset", {})
    flow.call("PUT", f"/users/{user}/logout", {"reason": "flow"})

    doomed = flow.call("POST", "/users", {"username": "doomed", "password": "doomed-pass-1"})["id"]
    doomed_inbox = next(b["id"] for b in flow.call("GET", f"/users/{doomed}/mailboxes")["results"]
                        if b["path"] == "INBOX")
    flow.call("POST", f"/users/{doomed}/mailboxes/{doomed_inbox}/messages", raw=_message("gone"))
    flow.call("DELETE", f"/users/{doomed}")
    flow.call("GET", f"/users/{doomed}", status=404)
    flow.call("GET", "/openapi.json")
    return user


def _put_staged_upload(user: str, upload_id: str) -> None:
    """What the client does with the presigned URL (not a call of the function)."""
    import boto3

    from chalicelib.config import settings
    from chalicelib.store import blobs
    boto3.client("s3", region_name=settings().region).put_object(
        Bucket=settings().mail_bucket, Key=blobs.upload_key(user, upload_id),
        Body=_message("staged"))


class ManagementApi:
    """The websocket management API of the flow: moto's, which holds any connection it is
    posted to, except the ones named `gone`, answered 410 GoneException as API Gateway
    answers for a closed connection (moto never does). Hooked on the app's own client,
    after the recorder saw the request."""

    def __init__(self, endpoint: str) -> None:
        from chalicelib.services.realtime import push
        self.endpoint = endpoint
        self.gone: set[str] = set()
        client = push._client(endpoint)  # the client the app posts with (cached)
        client.meta.events.register(
            "before-call.apigatewaymanagementapi.PostToConnection", self._before_call)

    def _before_call(self, params: dict[str, Any], **_: Any) -> Any:
        from types import SimpleNamespace
        from urllib.parse import unquote
        connection = unquote(params["url_path"].rsplit("/@connections/", 1)[-1])
        if connection not in self.gone:
            return None
        return (SimpleNamespace(status_code=410, headers={}),
                {"Error": {"Code": "GoneException", "Message": "gone"},
                 "ResponseMetadata": {"HTTPStatusCode": 410}})

    def received(self, connection: str) -> list[dict[str, Any]]:
        """The JSON messages moto holds for `connection`, in order."""
        from urllib.parse import quote

        from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
        from tests.infra.recorder import ACCOUNT
        held = apigatewaymanagementapi_backends[ACCOUNT][REGION].connections
        data = b"".join(held[key].data for key in (connection, quote(connection, safe=""))
                        if key in held)
        decoder, text, found, at = json.JSONDecoder(), data.decode(), [], 0
        while at < len(text):
            message, at = decoder.raw_decode(text, at)
            found.append(message)
        return found


def run_realtime(flow: Flow, recorder: Any, user: str, stream_arn: str) -> None:
    """The updates channel: the long-poll (a replay, then an idle wait); a websocket
    connected, subscribed with a replay, pinged, unsubscribed and closed through the
    app's handlers as API Gateway invokes them; and the journal table's stream read as
    Lambda's event source mapping reads it (DescribeStream, GetShardIterator, GetRecords,
    with the function's role) into the stream handler, whose fan-out posts to one
    connection and finds another gone (its item deleted)."""
    import boto3

    import app as app_module
    from chalicelib.config import settings
    from chalicelib.store import connections
    from devstack.streams import lambda_record
    from devstack.wsbridge import Bridge

    replay = flow.call("GET", f"/users/{user}/updates", headers={"Last-Event-ID": "1"})
    assert b"COUNTERS" in replay, replay[:300]
    flow.call("GET", f"/users/{user}/updates")  # nothing new: waits, reading again

    config = settings()
    api = ManagementApi(config.websocket_endpoint)
    bridge = Bridge(app_module, f"{WEBSOCKET_API_ID}.execute-api.{REGION}.amazonaws.com",
                    443, stage=config.websocket_endpoint.rsplit("/", 1)[-1])
    live, gone, ip = "Zmxvd0xpdmUwMQ==", "Zmxvd0dvbmUwMQ==", "192.0.2.10"

    def handle(handler: str, event: dict[str, Any]) -> dict[str, Any]:
        flow.steps += 1
        return getattr(app_module, handler)(event, None) or {}

    def send(connection: str, body: dict[str, Any]) -> None:
        handle("websocket_message", bridge.message_event(connection, json.dumps(body), ip))

    for connection in (live, gone):
        answer = handle("websocket_connect", bridge.connect_event(
            connection, f"/?accessToken={ACCESS_TOKEN}", {}, ip))
        assert answer.get("statusCode") == 200, answer
        send(connection, {"action": "subscribe", "user": user, "lastEventId": 1})
    assert handle("websocket_connect", bridge.connect_event(
        "Zmxvd0JhZDAwMQ==", "/?accessToken=wrong", {}, ip)).get("statusCode") == 403
    subscribed = api.received(live)
    assert subscribed[0]["action"] == "subscribed" and len(subscribed) > 2, subscribed[:3]
    newest = subscribed[0]["id"]

    # Lambda's poller: the shards, an iterator at LATEST, then records as they come.
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterators = [streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                            ShardIteratorType="LATEST")["ShardIterator"]
                 for shard in shards]
    api.gone.add(gone)
    inbox = next(b["id"] for b in flow.call("GET", f"/users/{user}/mailboxes")["results"]
                 if b["path"] == "INBOX")
    flow.call("POST", f"/users/{user}/mailboxes/{inbox}/messages", raw=_message("live"))
    records = []
    for iterator in iterators:
        answer = streams.get_records(ShardIterator=iterator, Limit=100)
        records += [lambda_record(record, stream_arn) for record in answer["Records"]]
    assert records, "the upload's journal entry is on the stream"
    assert handle("journal_stream", {"Records": records}) == {"batchItemFailures": []}
    pushed = [m for m in api.received(live) if m.get("id", 0) > newest]
    assert [m["command"] for m in pushed] == ["EXISTS"], pushed
    with recorder.paused():
        assert connections.get(gone) is None, "a gone connection is forgotten"

    send(live, {"action": "ping"})
    send(live, {"action": "unsubscribe"})
    assert [m["action"] for m in api.received(live)[-2:]] == ["pong", "unsubscribed"]
    handle("websocket_disconnect", bridge.disconnect_event(live, ip))
    with recorder.paused():
        assert connections.get(live) is None


def run_mail_flow(flow: Flow, recorder: Any, user: str) -> None:
    """Filters and autoreply through the API, then a mail received by SES: its receipt
    rule's S3 action (SES's write, not the function's), then the Lambda action."""
    import boto3

    import app as app_module
    from chalicelib.config import settings
    from chalicelib.store import blobs

    boxes = {b["path"]: b["id"] for b in flow.call("GET", f"/users/{user}/mailboxes")["results"]}
    base = f"/users/{user}/filters"
    kept = flow.call("POST", base, {"query": {"subject": "flow"}, "action": {
        "flag": True, "mailbox": boxes["Drafts"]}})["id"]
    other = flow.call("POST", base, {"query_from": "nobody", "action_seen": True})["id"]
    flow.call("PUT", f"{base}/{kept}", {"action": {"mailbox": ""}, "name": "flow"})
    flow.call("GET", base)
    flow.call("GET", f"{base}/{kept}")
    flow.call("DELETE", f"{base}/{other}")
    flow.call("GET", "/filters?limit=5")
    flow.call("PUT", f"/users/{user}/autoreply", {"status": False, "text": "away"})
    flow.call("GET", f"/users/{user}/autoreply")
    message_id = "flow-inbound-0001"
    with recorder.paused():
        boto3.client("s3", region_name=settings().region).put_object(
            Bucket=settings().mail_bucket, Key=blobs.inbound_key(message_id),
            Body=_message("flow inbound"))
    event = {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"messageId": message_id, "source": "sender@example.com",
                 "destination": ["flow@example.com"]},
        "receipt": {"recipients": ["flow@example.com", "nobody@example.com"],
                    "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}}}}]}
    flow.steps += 1
    answer = app_module.ses_inbound(event, None)
    assert [r["status"] for r in answer["recipients"]] == ["stored", "unknown"], answer
    flow.call("DELETE", f"/users/{user}/autoreply")


def run_jobs(app: Any) -> None:
    """Every scheduled handler as Lambda calls it, then the deep paths of the jobs (past
    the grace periods) through the same service functions."""
    from chalicelib.services import maintenance

    class Context:
        function_name = "flow-job"
        aws_request_id = "flow-request"
        memory_limit_in_mb = 1024

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 30000

    event = {"version": "0", "id": "flow", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012", "time": "2024-01-01T00:00:00Z",
             "region": "us-east-1", "resources": [], "detail": {}}
    for name in ("purge_deleted_mailboxes", "expire_messages", "purge_deleted_users",
                 "sweep_mail_bucket", "reset_quotas"):
        getattr(app_module(), name)(event, Context())
    later = time.time() + 3 * 24 * 3600
    maintenance.purge_users(now=later)
    maintenance.expire_messages(now=later)
    maintenance.sweep(now=later)
    maintenance.sweep(now=later + maintenance.CONFIRM_SECONDS + 120)


def app_module() -> Any:
    import app
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", required=True, help="file for the JSON result (stdout "
                        "carries the app's own log lines)")
    args = parser.parse_args(argv)
    _environment(args.stage)

    from moto import mock_aws

    from tests.infra.recorder import Recorder
    recorder = Recorder()
    with recorder.installed(), mock_aws():
        import boto3

        from chalicelib.config import settings
        from devstack.tables import create_all, ensure_kms_key, ensure_ses_identity
        config = settings()
        create_all(config.table_prefix, config.mail_bucket, config.region)
        ensure_ses_identity(config.ses_identity, config.region)
        key_id = ensure_kms_key(config.kms_key_id, config.region)
        key_arn = boto3.client("kms", region_name=config.region).describe_key(
            KeyId=key_id)["KeyMetadata"]["Arn"]
        # What the event source mapping is configured with (the template's StreamArn).
        dynamodb = boto3.client("dynamodb", region_name=config.region)
        stream_arns = {}
        for name in dynamodb.list_tables()["TableNames"]:
            arn = dynamodb.describe_table(TableName=name)["Table"].get("LatestStreamArn")
            if arn:
                stream_arns[name] = arn
        from chalice.test import Client

        from app import app
        with Client(app) as client, recorder.on():
            flow = Flow(client)
            user = run_api_flow(flow)
            run_realtime(flow, recorder, user, stream_arns[config.table("journal")])
            run_mail_flow(flow, recorder, user)
            run_jobs(app)
    calls = [call.to_json() for call in recorder.calls]
    for call in calls:  # the alias names the stage's key; IAM authorizes the key
        for auth in call["authorizations"]:
            if auth["action"].startswith("kms:"):
                region, key = auth["resource"].split("|", 1)
                auth["resource"] = key_arn if key == config.kms_key_id else key
    with open(args.out, "w") as out:
        json.dump({"calls": calls, "keyArn": key_arn, "steps": flow.steps,
                   "websocketApiId": WEBSOCKET_API_ID,
                   "streamLabels": {name: arn.rsplit("/stream/", 1)[1]
                                    for name, arn in stream_arns.items()}}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
