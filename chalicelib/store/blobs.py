"""The mail bucket: raw sources, parsed bodies, extracted attachments, pending uploads.

The only module that talks to S3. Every object of a stored message lives under one
folder named after the message, `msg/<user>/<idate:015d>-<msgid>/`, which is also the
`userDateKey` of its item in the messages table's `byUser` index: the sweeper can tell
whether a folder is still referenced with one exact index lookup (plus one GetItem in
the archive, whose ids are the msgids).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterator

from chalicelib.config import settings

RAW = "raw.eml"
BODIES = "bodies.json"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


@lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3  # imported on first use: most routes never touch S3
    return boto3.client("s3", region_name=settings().region)


def _bucket() -> str:
    return settings().mail_bucket


def folder_name(idate: int, msgid: str) -> str:
    return f"{idate:015d}-{msgid}"


def message_folder(user: str, idate: int, msgid: str) -> str:
    return f"msg/{user}/{folder_name(idate, msgid)}/"


def raw_key(user: str, idate: int, msgid: str) -> str:
    return message_folder(user, idate, msgid) + RAW


def bodies_key(user: str, idate: int, msgid: str) -> str:
    return message_folder(user, idate, msgid) + BODIES


def attachment_key(user: str, idate: int, msgid: str, attachment: str) -> str:
    return message_folder(user, idate, msgid) + f"att/{attachment}"


def upload_key(user: str, upload_id: str) -> str:
    return f"upload/{user}/{upload_id}"


def inbound_key(message_id: str) -> str:
    """Where the SES receipt rule's S3 action put a received mail (its SES message id)."""
    return f"{settings().inbound_prefix}{message_id}"


def parse_folder(key: str) -> tuple[str, str, str] | None:
    """(user, folder name, msgid) of a key under `msg/`, or None for any other key."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != "msg" or "-" not in parts[2]:
        return None
    return parts[1], parts[2], parts[2].split("-", 1)[1]


def put(key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    _s3().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


def put_json(key: str, value: Any) -> None:
    put(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        "application/json")


def get(key: str) -> bytes:
    return bytes(_s3().get_object(Bucket=_bucket(), Key=key)["Body"].read())


def get_json(key: str) -> Any:
    return json.loads(get(key))


def size_of(key: str) -> int | None:
    """Size of an object, None when it does not exist."""
    from botocore.exceptions import ClientError
    try:
        return int(_s3().head_object(Bucket=_bucket(), Key=key)["ContentLength"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def copy(source: str, target: str, content_type: str) -> None:
    """Server-side copy (no bytes through Lambda); objects over 5 GB are not supported."""
    _s3().copy_object(Bucket=_bucket(), Key=target, ContentType=content_type,
                      MetadataDirective="REPLACE",
                      CopySource={"Bucket": _bucket(), "Key": source})


def delete(keys: list[str]) -> None:
    """Delete objects, 1000 per call; missing keys are not an error."""
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        if chunk:
            _s3().delete_objects(Bucket=_bucket(), Delete={
                "Objects": [{"Key": key} for key in chunk], "Quiet": True})


def delete_folder(user: str, idate: int, msgid: str) -> None:
    delete([obj.key for obj in list_prefix(message_folder(user, idate, msgid))])


def list_prefix(prefix: str) -> Iterator[StoredObject]:
    paginator = _s3().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=_bucket(), Prefix=prefix):
        for obj in page.get("Contents", []):
            yield StoredObject(obj["Key"], int(obj["Size"]), obj["LastModified"])


def presign_get(key: str, *, content_type: str | None = None, filename: str | None = None,
                expires: int = 300) -> str:
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key}
    if content_type:
        params["ResponseContentType"] = content_type
    if filename:
        params["ResponseContentDisposition"] = _disposition(filename)
    return str(_s3().generate_presigned_url("get_object", Params=params, ExpiresIn=expires))


def presign_put(key: str, *, content_type: str, expires: int = 900) -> str:
    return str(_s3().generate_presigned_url(
        "put_object", Params={"Bucket": _bucket(), "Key": key, "ContentType": content_type},
        ExpiresIn=expires))


def _disposition(filename: str) -> str:
    from urllib.parse import quote
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def disposition(filename: str) -> str:
    """A Content-Disposition value that survives non-ASCII file names (RFC 6266)."""
    return _disposition(filename)
