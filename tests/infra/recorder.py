"""Record every AWS request the code makes, as IAM sees it: action, resource ARN and the
condition keys the request carries.

Hooks `before-parameter-build` on every botocore client created while installed (boto3
and PynamoDB both create theirs through `botocore.session.Session.create_client`). That
event fires for API calls and for presigned URLs alike; a presigned URL is authorized
with the signer's rights when it is used, so it counts as a request of the function.

Each botocore operation maps to the IAM authorizations it needs. An operation without
a mapping is recorded as unmapped, and the policy test fails on it: a new kind of call
must be thought about, not waved through. Besides DynamoDB, S3 and KMS:

- DynamoDB Streams (what Lambda's event source mapping calls with the function's role):
  `dynamodb:<operation>` on the stream ARN; GetRecords names only a shard iterator,
  which begins with its stream's ARN (`<stream arn>|...`, in DynamoDB as in moto).
- SES: `ses:SendRawEmail` on the identity the mail is sent as: the domain of `Source`
  (the stages send as verified domains).
- The websocket management API: `execute-api:ManageConnections` on
  `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/@connections/<id>`,
  the API id and stage taken from the client's endpoint
  (`https://<api id>.execute-api.<region>.amazonaws.com/<stage>`).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator
from unittest import mock

import botocore.session

ACCOUNT = "123456789012"  # moto's default account


@dataclass
class Authorization:
    action: str  # "dynamodb:GetItem"
    resource: str  # an ARN
    context: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    service: str
    operation: str
    presigned: bool
    authorizations: list[Authorization]
    unmapped: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Call":
        return cls(data["service"], data["operation"], data["presigned"],
                   [Authorization(**a) for a in data["authorizations"]], data["unmapped"])


def _table_arn(region: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
             "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_SINGLE_TABLE = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
                 "DescribeTable", "DescribeTimeToLive"}


def _dynamodb(operation: str, params: dict[str, Any], region: str) -> list[Authorization]:
    if operation in _SINGLE_TABLE:
        return [Authorization(f"dynamodb:{operation}",
                              _table_arn(region, params["TableName"], params.get("IndexName")))]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Authorization(f"dynamodb:{operation}", _table_arn(region, table))
                for table in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params["TransactItems"]:
            (kind, body), = item.items()
            found.append(Authorization(f"dynamodb:{_TRANSACT[kind]}",
                                       _table_arn(region, body["TableName"])))
        return found
    raise KeyError(operation)


def _s3(operation: str, params: dict[str, Any], secure: str) -> list[Authorization]:
    context = {"aws:SecureTransport": secure}
    bucket = params["Bucket"]

    def obj(action: str, key: str) -> Authorization:
        return Authorization(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}", dict(context))

    if operation in ("GetObject", "PutObject", "DeleteObject"):
        return [obj(operation, params["Key"])]
    if operation == "HeadObject":
        return [obj("GetObject", params["Key"])]
    if operation == "DeleteObjects":
        return [obj("DeleteObject", entry["Key"]) for entry in params["Delete"]["Objects"]]
    if operation in ("ListObjectsV2", "ListObjects"):
        return [Authorization("s3:ListBucket", f"arn:aws:s3:::{bucket}",
                              {**context, "s3:prefix": params.get("Prefix", "")})]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, str):
            source_bucket, _, source_key = source.lstrip("/").partition("/")
        else:
            source_bucket, source_key = source["Bucket"], source["Key"]
        return [obj("PutObject", params["Key"]),
                Authorization("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key}",
                              dict(context))]
    raise KeyError(operation)


def _kms(operation: str, params: dict[str, Any], region: str,
         aliases: dict[str, str]) -> list[Authorization]:
    if operation not in ("Encrypt", "Decrypt", "GenerateDataKey", "ReEncrypt"):
        raise KeyError(operation)
    key = params.get("KeyId")
    if key is None:
        raise KeyError(f"{operation} without KeyId")  # the code always names its key
    context = {f"kms:EncryptionContext:{k}": v
               for k, v in (params.get("EncryptionContext") or {}).items()}
    return [Authorization(f"kms:{operation}", f"{region}|{key}", context)]


_STREAM_READS = {"DescribeStream", "GetShardIterator", "GetRecords"}


def _streams(operation: str, params: dict[str, Any]) -> list[Authorization]:
    if operation not in _STREAM_READS:
        raise KeyError(operation)
    arn = params.get("StreamArn") or params["ShardIterator"].split("|", 1)[0]
    if ":table/" not in arn or "/stream/" not in arn:
        raise KeyError(f"{operation} on {arn!r}")
    return [Authorization(f"dynamodb:{operation}", arn)]


def _ses(operation: str, params: dict[str, Any], region: str) -> list[Authorization]:
    if operation != "SendRawEmail" or "@" not in str(params.get("Source", "")):
        raise KeyError(operation)
    domain = str(params["Source"]).rpartition("@")[2].rstrip(">").lower()
    return [Authorization("ses:SendRawEmail", f"arn:aws:ses:{region}:{ACCOUNT}:identity/{domain}")]


_CONNECTIONS = {"PostToConnection": "POST", "GetConnection": "GET",
                "DeleteConnection": "DELETE"}


def _management_api(operation: str, params: dict[str, Any], region: str,
                    endpoint: str) -> list[Authorization]:
    match = re.fullmatch(r"https://([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com"
                         r"/([A-Za-z0-9_-]+)/?", endpoint)
    if operation not in _CONNECTIONS or match is None or match.group(2) != region:
        raise KeyError(f"{operation} at {endpoint}")
    api, _, stage = match.groups()
    return [Authorization("execute-api:ManageConnections",
                          f"arn:aws:execute-api:{region}:{ACCOUNT}:{api}/{stage}/"
                          f"{_CONNECTIONS[operation]}/@connections/{params['ConnectionId']}")]


class Recorder:
    """Collects Calls while `recording` is true."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.recording = False

    def handler(self, client: Any) -> Any:
        service = client.meta.service_model.service_name
        region = client.meta.region_name
        secure = "true" if client.meta.endpoint_url.startswith("https://") else "false"

        def before_parameter_build(params: dict[str, Any], model: Any,
                                   context: dict[str, Any], **_: Any) -> None:
            if not self.recording:
                return
            operation = model.name
            presigned = bool(context.get("is_presign_request"))
            try:
                if service == "dynamodb":
                    auths = _dynamodb(operation, params, region)
                elif service == "s3":
                    auths = _s3(operation, params, secure)
                elif service == "kms":
                    auths = _kms(operation, params, region, {})
                elif service == "ses":
                    auths = _ses(operation, params, region)
                elif service == "dynamodbstreams":
                    auths = _streams(operation, params)
                elif service == "apigatewaymanagementapi":
                    auths = _management_api(operation, params, region,
                                            client.meta.endpoint_url)
                else:
                    raise KeyError(service)
            except KeyError:
                self.calls.append(Call(service, operation, presigned, [], unmapped=True))
                return
            self.calls.append(Call(service, operation, presigned, auths))

        return before_parameter_build

    @contextmanager
    def installed(self) -> Iterator["Recorder"]:
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", recorder.handler(client))
            return client

        with mock.patch.object(botocore.session.Session, "create_client", create_client):
            yield self

    @contextmanager
    def on(self) -> Iterator[None]:
        self.recording = True
        try:
            yield
        finally:
            self.recording = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls of the test itself (checking an outcome), not of the code."""
        previous, self.recording = self.recording, False
        try:
            yield
        finally:
            self.recording = previous
