"""The stage policy allows exactly what the code does: every AWS request of the main flow
(users, authentication, addresses, uploads of every kind, reads, downloads, flags,
moves, delete and restore, submission, mailboxes, TOTP, ASPs, account deletion, the updates
long-poll, websocket connect/subscribe/disconnect, the journal stream read as Lambda
reads it and fanned out to connections, every scheduled job and their deep paths),
recorded against moto as the prod stage, is allowed by the prod template's role policy
and the bucket policy; none of it is allowed by dev's.
"""
from __future__ import annotations

from typing import Any

import pytest

from infra.stages import load
from tests.infra.iam import Environment, evaluate, resolve
from tests.infra.packaged import REGION, packaged_template, recorded_flow
from tests.infra.recorder import Authorization, Call


def _environment(stage: str, flow: dict[str, Any], key_arn: str | None = None,
                 websocket_api: str | None = None) -> Environment:
    """What `stage`'s template resolves to in the test account: prod's as the flow ran
    it; another stage's stack has its own key and its own websocket API (ids the
    services assign), and its tables' streams are labelled as prod's were."""
    names = load(stage)
    labels = {name.replace("wildduck-prod-", names.table_prefix, 1): label
              for name, label in flow["streamLabels"].items()}
    return Environment(REGION, {**names.parameters, "ApiStage": names.api_stage},
                       key_arn or flow["keyArn"],
                       {"WebsocketAPI": websocket_api or flow["websocketApiId"]}, labels)


def _policies(stage: str, env: Environment) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stage's role policy and bucket policy, resolved for the test account."""
    template = packaged_template(stage)
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    documents = {str(r["Properties"]["Policies"]) for r in roles}
    assert len(documents) == 1, "every function role carries the one stage policy"
    role_policy = resolve(roles[0]["Properties"]["Policies"][0]["PolicyDocument"],
                          template, env)
    bucket_policy = resolve(template["Resources"]["MailBucketPolicy"]["Properties"]
                            ["PolicyDocument"], template, env)
    return role_policy, [role_policy, bucket_policy]


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    return recorded_flow("prod")


def _requests(flow: dict[str, Any]) -> list[tuple[Call, Authorization]]:
    calls = [Call.from_json(c) for c in flow["calls"]]
    return [(call, auth) for call in calls for auth in call.authorizations]


def test_the_flow_is_recorded_and_every_call_is_understood(flow: dict[str, Any]) -> None:
    calls = [Call.from_json(c) for c in flow["calls"]]
    assert flow["steps"] >= 50 and len(calls) >= 150
    unmapped = sorted({f"{c.service}.{c.operation}" for c in calls if c.unmapped})
    assert unmapped == [], f"map these operations to IAM actions in recorder.py: {unmapped}"
    services = {c.service for c in calls}
    assert services == {"dynamodb", "s3", "kms", "ses", "dynamodbstreams",
                        "apigatewaymanagementapi"}
    assert any(c.presigned for c in calls), "the presigned upload URL is checked too"
    operations = {(c.service, c.operation) for c in calls}
    assert {("dynamodbstreams", "DescribeStream"), ("dynamodbstreams", "GetShardIterator"),
            ("dynamodbstreams", "GetRecords"),
            ("apigatewaymanagementapi", "PostToConnection")} <= operations


def test_the_prod_policy_allows_every_request_of_the_flow(flow: dict[str, Any]) -> None:
    _, policies = _policies("prod", _environment("prod", flow))
    denied = []
    for call, auth in _requests(flow):
        if not evaluate(policies, auth).allowed:
            denied.append(f"{call.service}.{call.operation}: {auth.action} on {auth.resource}"
                          f" {auth.context or ''}")
    assert denied == [], "\n".join(sorted(set(denied)))


def test_the_dev_policy_allows_none_of_prods_requests(flow: dict[str, Any]) -> None:
    _, policies = _policies("dev", _environment(
        "dev", flow, "arn:aws:kms:us-east-1:123456789012:key/dev-key", "devws00001"))
    allowed = [f"{auth.action} on {auth.resource}" for _, auth in _requests(flow)
               if evaluate(policies, auth).allowed]
    assert allowed == []


def test_every_grant_of_the_policy_is_used_or_explained(flow: dict[str, Any]) -> None:
    """An action no request of the code needs is a grant too many (those Lambda itself
    uses aside)."""
    role_policy, _ = _policies("prod", _environment("prod", flow))
    used: set[tuple[str, str]] = set()
    for _, auth in _requests(flow):
        decision = evaluate([role_policy], auth)
        used.add((decision.by or "", auth.action))
    granted = {(s["Sid"], action) for s in role_policy["Statement"]
               for action in s["Action"]}
    not_from_code = {  # exercised by Lambda itself, not by the code or the stream reads
        ("FailedInvocations", "sqs:SendMessage"), ("Logs", "logs:CreateLogStream"),
        ("Logs", "logs:PutLogEvents"), ("Tracing", "xray:PutTraceSegments"),
        ("Tracing", "xray:PutTelemetryRecords"),
        # checked on the stream when the event source mapping is created
        ("Streams", "dynamodb:ListStreams")}
    assert granted - used == not_from_code


def test_a_request_outside_the_stage_prefixes_is_refused(flow: dict[str, Any]) -> None:
    _, policies = _policies("prod", _environment("prod", flow))
    account = "us-east-1:123456789012"
    streams = {name: f"arn:aws:dynamodb:{account}:table/{name}/stream/{label}"
               for name, label in flow["streamLabels"].items()}
    connections = f"arn:aws:execute-api:{account}:{flow['websocketApiId']}"
    outside = [
        Authorization("s3:GetObject", "arn:aws:s3:::wildduck-prod-mail/other/x",
                      {"aws:SecureTransport": "true"}),
        Authorization("s3:GetObject", "arn:aws:s3:::wildduck-prod-mail/msg/x",
                      {"aws:SecureTransport": "false"}),  # TLS only
        Authorization("dynamodb:Scan", "arn:aws:dynamodb:us-east-1:123456789012:"
                                       "table/wildduck-prod-users"),
        Authorization("dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:123456789012:"
                                              "table/wildduck-prod-users"),
        Authorization("kms:Decrypt", flow["keyArn"], {"kms:EncryptionContext:purpose": "x"}),
        Authorization("kms:Decrypt", flow["keyArn"]),
        Authorization("ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/x"),
        # the messages table's, but an older stream of it
        Authorization("dynamodb:GetRecords", streams["wildduck-prod-messages"].rsplit(
            "/", 1)[0] + "/2020-01-01T00:00:00.000"),
        # a table without a stream
        Authorization("dynamodb:GetRecords", "arn:aws:dynamodb:us-east-1:123456789012:"
                                             "table/wildduck-prod-search/stream/x"),
        # the journal's, but an older stream of it (disabled and enabled again)
        Authorization("dynamodb:GetRecords", streams["wildduck-prod-journal"].rsplit(
            "/", 1)[0] + "/2020-01-01T00:00:00.000"),
        # connections: only POST, only at the stage's own stage name, only this API
        Authorization("execute-api:ManageConnections", f"{connections}/api/DELETE/"
                                                       "@connections/Zmxvd0xpdmUwMQ=="),
        Authorization("execute-api:ManageConnections", f"{connections}/api/GET/"
                                                       "@connections/Zmxvd0xpdmUwMQ=="),
        Authorization("execute-api:ManageConnections", f"{connections}/dev/POST/"
                                                       "@connections/Zmxvd0xpdmUwMQ=="),
        Authorization("execute-api:ManageConnections", f"arn:aws:execute-api:{account}:"
                      "otherapi01/api/POST/@connections/Zmxvd0xpdmUwMQ=="),
        Authorization("execute-api:Invoke", f"{connections}/api/$default"),
        Authorization("sqs:SendMessage", f"arn:aws:sqs:{account}:wildduck-prod-other"),
    ]
    assert [evaluate(policies, auth).allowed for auth in outside] == [False] * len(outside)


def test_only_x_ray_is_granted_on_every_resource() -> None:
    role_policy = packaged_template("prod")["Resources"]["ApiHandlerRole"]["Properties"][
        "Policies"][0]["PolicyDocument"]
    wildcard = [s["Sid"] for s in role_policy["Statement"] if "*" in s["Resource"]]
    assert wildcard == ["Tracing"]  # X-Ray has no resource-level permissions
