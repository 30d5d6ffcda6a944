"""DynamoDB stream records: decoded once, dispatched to the handlers of their table,
failures reported per record.

A Lambda fed by a table's stream (app.py, `@app.on_dynamodb_record`) calls `dispatch`
with its event. Each record becomes a `Change` (keys and images as plain Python values,
numbers as int or float); the changes of one table go, in stream order, to every handler
registered for it (`register`), one call per handler and batch. A handler returns the
changes it could not process (or raises: then all of them failed); a record that cannot
be decoded fails on its own. The answer is Lambda's partial batch response,
`{"batchItemFailures": [{"itemIdentifier": <sequence number>}, ...]}`: with
`ReportBatchItemFailures`, Lambda retries from the first failed record on, bisects, and
after its retries sends what still fails to the on-failure destination
(infra/production.py sets the event source up so for every stream handler), so a bad
record neither blocks its shard nor drops the rest.
Handlers therefore see a record more than once after a failure: they must be idempotent
or accept repeats (the websocket fan-out may post an entry twice).

Consumers: the journal table (websocket fan-out, services/realtime/websockets.py); the
messages table (the search indexer, services/search/indexer.py, and the address
register, services/addressregister.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

from chalicelib import logs
from chalicelib.config import settings


@dataclass(frozen=True)
class Change:
    table: str  # the table's name in infra/tables.yaml terms ("journal"), no stage prefix
    event: str  # INSERT, MODIFY or REMOVE
    keys: dict[str, Any]
    new: dict[str, Any] | None
    old: dict[str, Any] | None
    sequence: str  # the record's stream sequence number, its identity for retries


Handler = Callable[[list[Change]], "Iterable[Change] | None"]

_handlers: dict[str, list[Handler]] = {}


def register(table: str, handler: Handler) -> Handler:
    """Have `handler` receive the changes of `table` (once per handler)."""
    known = _handlers.setdefault(table, [])
    if handler not in known:
        known.append(handler)
    return handler


def placeholder_arn(table: str) -> str:
    """The stream ARN a handler is declared with. A stream's ARN is only known once its
    table exists: packaging replaces this with the table's `StreamArn` (infra/production.py,
    which refuses a name that is not a streamed table of the stack), and the local pump
    (devstack/streams.py) finds the stream by the table name in it."""
    config = settings()
    return (f"arn:aws:dynamodb:{config.region}:000000000000:table/"
            f"{config.table(table)}/stream/latest")


def table_of(arn: str) -> str:
    """`arn:aws:dynamodb:<region>:<account>:table/<prefix><name>/stream/<label>` -> name."""
    full = arn.split(":table/", 1)[-1].split("/", 1)[0]
    prefix = settings().table_prefix
    return full[len(prefix):] if full.startswith(prefix) else full


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, set):
        return {_plain(item) for item in value}
    return value


def _image(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    from boto3.dynamodb.types import TypeDeserializer
    deserializer = TypeDeserializer()
    return {name: _plain(deserializer.deserialize(value)) for name, value in raw.items()}


def decode(record: dict[str, Any]) -> Change:
    body = record["dynamodb"]
    return Change(table=table_of(record.get("eventSourceARN", "")),
                  event=record["eventName"], keys=_image(body.get("Keys")) or {},
                  new=_image(body.get("NewImage")), old=_image(body.get("OldImage")),
                  sequence=str(body["SequenceNumber"]))


def dispatch(event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Run the handlers over a stream event; Lambda's partial batch response."""
    failed: list[str] = []
    by_table: dict[str, list[Change]] = {}
    for record in event.get("Records", []):
        try:
            change = decode(record)
        except Exception:  # noqa: BLE001 - one bad record fails alone
            sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
            logs.exception("stream record not decoded", sequence=sequence)
            failed.append(sequence)
            continue
        by_table.setdefault(change.table, []).append(change)
    for table, changes in by_table.items():
        for handler in _handlers.get(table, []):
            try:
                left = list(handler(changes) or [])
            except Exception:  # noqa: BLE001 - reported for retry, the others go on
                logs.exception("stream handler failed", table=table,
                               handler=getattr(handler, "__name__", repr(handler)))
                left = changes
            failed += [change.sequence for change in left]
    seen: set[str] = set()
    unique = [sequence for sequence in failed if not (sequence in seen or seen.add(sequence))]
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in unique]}
