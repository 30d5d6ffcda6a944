"""The IAM policy of a stage's functions, built from the resources of its template.

Every grant names the stage's own resources by reference (`Fn::GetAtt`/`Fn::Sub` of
the template's logical ids), never a name pattern: a dev function cannot reach a prod
table, and a table, stream or function added to the template gets exactly the grants
its kind needs when the template is packaged. `.chalice/policy.json` only satisfies
chalice; `infra/production.py` replaces it in every role with this document.

Grants and why (tests/infra/test_policy.py proves the main flow needs nothing more):

- Tables: item reads/writes on each table and its indexes. TransactWriteItems and
  TransactGetItems are authorized per item as Put/Update/Delete/ConditionCheck/GetItem,
  so they need no action of their own; ConditionCheckItem is granted for the
  transactions that prove an account live (filters, autoreply). No Scan (but see
  FilterListing), no DescribeTable, no table management.
- FilterListing: Scan on the filters table alone, for the operator-wide `GET /filters`.
- MailObjects: get/put/delete under `msg/` and `upload/` only (a presigned URL acts
  with the signer's rights, so uploads and large downloads are covered too).
- InboundMail: GetObject under the inbound prefix, where the SES receipt rule's S3
  action puts received mail for the delivery function (services/delivery.py) to read.
  Nothing else there: SES writes (bucket policy), lifecycle expires.
- MailListing: ListBucket on the bucket: the daily sweep lists, and without it S3
  answers 403 instead of 404 for a missing object. Deliberately without an `s3:prefix`
  condition: a HEAD or GET of a missing key carries no prefix, so a conditioned grant
  would bring the 403 back.
- SecretsKey: Encrypt/Decrypt on the stage's key, only under the `purpose: totp`
  encryption context the code always sends.
- SendMail: `ses:SendRawEmail` (services/outbound.py, the only sender) on the stage's
  own SES identity (`SesIdentity`, the stage's SES_IDENTITY) only: a stage cannot send
  as another stage's domain. No SendEmail, no identity management.
- Streams (for each function that reads a DynamoDB stream, the journal's today): the
  four actions Lambda's event source mapping reads a stream with (it reads with the
  function's role), on that stream's ARN (`Fn::GetAtt <Table>.StreamArn`) only, not on
  the table's other streams nor on any other table's. A stream that is replaced gets a
  new ARN, and the same deployment updates the grant and the event source to it.
- Websockets (once the template has a websocket API): `execute-api:ManageConnections`
  to POST to connections of this stack's websocket API at the stage's own stage name
  only (`<api>/<ApiStage>/POST/@connections/*`). The code only posts: a connection that
  is gone is forgotten in the connections table, never read (GET) or closed (DELETE)
  through the management API, so those are not granted.
- FailedInvocations: where asynchronous and stream failures go (Lambda sends with the
  function's role).
- Logs: streams and events in the functions' own log groups (created by the template,
  so no CreateLogGroup).
- Tracing: X-Ray segments; X-Ray has no resource-level permissions, so it is `*`.
"""
from __future__ import annotations

from typing import Any

Template = dict[str, Any]

TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                 "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords",
                  "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
MAIL_PREFIXES = ["msg/", "upload/"]
INBOUND_PREFIX = "inbound/"  # the INBOUND_PREFIX setting's default (chalicelib/config.py)
FILTERS_TABLE = "FiltersTable"
BUCKET = "MailBucket"
KEY = "SecretsKey"
FAILURES = "FailedInvocations"
WEBSOCKET_API = "WebsocketAPI"


def _of_type(template: Template, kind: str) -> list[str]:
    return sorted(name for name, resource in template["Resources"].items()
                  if resource.get("Type") == kind)


def _has_indexes(resource: dict[str, Any]) -> bool:
    props = resource.get("Properties", {})
    return bool(props.get("GlobalSecondaryIndexes") or props.get("LocalSecondaryIndexes"))


def functions(template: Template) -> list[str]:
    return _of_type(template, "AWS::Serverless::Function")


def stream_sources(template: Template) -> list[tuple[str, str, Any]]:
    """(function, event name, stream ARN value) of every DynamoDB stream event."""
    found = []
    for name in functions(template):
        events = template["Resources"][name].get("Properties", {}).get("Events", {})
        for event_name, event in sorted(events.items()):
            if event.get("Type") == "DynamoDB":
                found.append((name, event_name, event["Properties"]["Stream"]))
    return found


def log_group_id(function: str) -> str:
    return f"{function}LogGroup"


def _statement(sid: str, actions: list[str], resources: list[Any],
               condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions,
                                 "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _stream_resource(function: str, stream: Any) -> Any:
    """The stream's ARN as the event names it: infra/production.py has made it a table's
    `StreamArn` (a literal ARN here would grant a name, not this stack's resource)."""
    if not (isinstance(stream, dict) and list(stream) == ["Fn::GetAtt"]
            and stream["Fn::GetAtt"][1] == "StreamArn"):
        raise ValueError(f"{function}: stream {stream!r} is not a table's StreamArn")
    return stream


def stage_policy(template: Template) -> dict[str, Any]:
    """The policy document every function role of the packaged `template` gets."""
    resources = template["Resources"]
    tables = _of_type(template, "AWS::DynamoDB::Table")
    table_arns: list[Any] = [{"Fn::GetAtt": [table, "Arn"]} for table in tables]
    table_arns += [{"Fn::Sub": "${%s.Arn}/index/*" % table} for table in tables
                   if _has_indexes(resources[table])]
    statements = [
        _statement("Tables", TABLE_ACTIONS, table_arns),
        _statement("MailObjects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                   [{"Fn::Sub": "${%s.Arn}/%s*" % (BUCKET, prefix)}
                    for prefix in MAIL_PREFIXES]),
        _statement("InboundMail", ["s3:GetObject"],
                   [{"Fn::Sub": "${%s.Arn}/%s*" % (BUCKET, INBOUND_PREFIX)}]),
        _statement("MailListing", ["s3:ListBucket"], [{"Fn::GetAtt": [BUCKET, "Arn"]}]),
        _statement("SecretsKey", ["kms:Encrypt", "kms:Decrypt"],
                   [{"Fn::GetAtt": [KEY, "Arn"]}],
                   {"StringEquals": {"kms:EncryptionContext:purpose": "totp"}}),
        _statement("SendMail", ["ses:SendRawEmail"],
                   [{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
                                "identity/${SesIdentity}"}]),
    ]
    if FILTERS_TABLE in resources:
        statements.insert(1, _statement("FilterListing", ["dynamodb:Scan"],
                                        [{"Fn::GetAtt": [FILTERS_TABLE, "Arn"]}]))
    streams = []
    for function, _, stream in stream_sources(template):
        resource = _stream_resource(function, stream)
        if resource not in streams:
            streams.append(resource)
    if streams:
        statements.append(_statement("Streams", STREAM_ACTIONS, streams))
    if WEBSOCKET_API in resources:
        statements.append(_statement(
            "Websockets", ["execute-api:ManageConnections"],
            [{"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                         "${%s}/${ApiStage}/POST/@connections/*" % WEBSOCKET_API}]))
    statements.append(_statement("FailedInvocations", ["sqs:SendMessage"],
                                 [{"Fn::GetAtt": [FAILURES, "Arn"]}]))
    statements.append(_statement(
        "Logs", ["logs:CreateLogStream", "logs:PutLogEvents"],
        [{"Fn::GetAtt": [log_group_id(name), "Arn"]} for name in functions(template)]))
    statements.append(_statement("Tracing", ["xray:PutTraceSegments",
                                             "xray:PutTelemetryRecords"], ["*"]))
    return {"Version": "2012-10-17", "Statement": statements}
