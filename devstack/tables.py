"""Create the tables and bucket of infra/tables.yaml in whatever AWS boto3 points at.

Used by the local runner (against the moto server) and by the tests (inside
`mock_aws`), so both get exactly the keys, indexes, streams and TTL that deploy.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "tables.yaml"


def _substitute(value: Any, params: dict[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{(\w+)\}", lambda m: params[m.group(1)], value["Fn::Sub"])
    if isinstance(value, dict):
        return {k: _substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    return value


@lru_cache(maxsize=None)
def _client(service: str, region: str) -> Any:
    """Clients are costly to build (service models) and safe to reuse across moto resets."""
    return boto3.client(service, region_name=region)


@lru_cache(maxsize=None)
def _template() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text())


def load_resources(table_prefix: str, bucket: str) -> dict[str, dict[str, Any]]:
    template = _template()
    params = {"TablePrefix": table_prefix, "MailBucketName": bucket}
    return {name: _substitute(res, params) for name, res in template["Resources"].items()}


def _table_request(props: dict[str, Any]) -> dict[str, Any]:
    request = {key: props[key] for key in (
        "TableName", "AttributeDefinitions", "KeySchema", "BillingMode",
        "GlobalSecondaryIndexes", "LocalSecondaryIndexes") if key in props}
    if "StreamSpecification" in props:
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return request


def create_all(table_prefix: str, bucket: str, region: str) -> list[str]:
    """Create every missing table and the bucket; returns the table names."""
    dynamodb = _client("dynamodb", region)
    existing = set(dynamodb.list_tables()["TableNames"])
    names = []
    for resource in load_resources(table_prefix, bucket).values():
        props = resource["Properties"]
        if resource.get("Type") == "AWS::DynamoDB::Table":
            names.append(props["TableName"])
            if props["TableName"] in existing:
                continue
            dynamodb.create_table(**_table_request(props))
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                dynamodb.update_time_to_live(TableName=props["TableName"],
                                             TimeToLiveSpecification=ttl)
        elif resource.get("Type") == "AWS::S3::Bucket":
            s3 = _client("s3", region)
            if props["BucketName"] not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                kwargs: dict[str, Any] = {"Bucket": props["BucketName"]}
                if region != "us-east-1":
                    kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
                s3.create_bucket(**kwargs)
                s3.put_bucket_encryption(
                    Bucket=props["BucketName"],
                    ServerSideEncryptionConfiguration={"Rules": [
                        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
    return names


def ensure_kms_key(alias: str, region: str) -> str:
    """The key that encrypts TOTP seeds; created under the configured alias if missing."""
    kms = _client("kms", region)
    for entry in kms.list_aliases()["Aliases"]:
        if entry["AliasName"] == alias and entry.get("TargetKeyId"):
            return entry["TargetKeyId"]
    key_id = kms.create_key(Description="wildduck local secrets")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def ensure_ses_identity(identity: str, region: str) -> None:
    """Verify the sending identity (a domain, or one address) in SES: moto, like SES,
    refuses to send from anything unverified."""
    ses = _client("ses", region)
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)


def truncate_all(table_prefix: str, bucket: str, region: str) -> None:
    """Empty every table and the bucket, keeping their definitions (fast test isolation)."""
    dynamodb = _client("dynamodb", region)
    for resource in load_resources(table_prefix, bucket).values():
        props = resource["Properties"]
        if resource.get("Type") == "AWS::DynamoDB::Table":
            names = [k["AttributeName"] for k in props["KeySchema"]]
            projection = ", ".join(f"#k{i}" for i in range(len(names)))
            aliases = {f"#k{i}": name for i, name in enumerate(names)}
            for page in dynamodb.get_paginator("scan").paginate(
                    TableName=props["TableName"], ProjectionExpression=projection,
                    ExpressionAttributeNames=aliases):
                items = page["Items"]
                for start in range(0, len(items), 25):
                    dynamodb.batch_write_item(RequestItems={props["TableName"]: [
                        {"DeleteRequest": {"Key": key}} for key in items[start:start + 25]]})
        elif resource.get("Type") == "AWS::S3::Bucket":
            s3 = _client("s3", region)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=props["BucketName"]):
                keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=props["BucketName"], Delete={"Objects": keys})
