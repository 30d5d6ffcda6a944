"""A small IAM evaluator for the policy test: enough of IAM to decide, for one request,
whether a policy allows it, and nothing that would let a wrong grant pass.

- A template's policy is first resolved into plain ARNs (`resolve`): Ref of parameters,
  pseudo parameters and of the resources whose id the account assigns (the websocket
  API's id, given by the test), Fn::Sub, Fn::GetAtt Arn of the resource kinds the
  policy names and StreamArn of tables (the stream label given by the test). Anything
  else raises, rather than guessing.
- Evaluation: an explicit Deny that matches wins; otherwise some Allow must match the
  action (case-insensitive, `*`/`?` wildcards), the resource (case-sensitive, `*`
  spans `/` and `:` as in IAM) and every condition. Conditions support StringEquals,
  StringLike, StringNotEquals and Bool; a condition on a key the request does not carry
  does not match (so an Allow with it does not apply). Unknown operators raise.
- NotAction, NotResource and principals are not supported (identity policies here use
  none; the bucket policy's `Principal: "*"` is accepted as "everyone").
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from tests.infra.recorder import ACCOUNT, Authorization

PARTITION = "aws"


@dataclass(frozen=True)
class Environment:
    """What a template's intrinsics resolve to in the test account."""
    region: str
    parameters: dict[str, str]
    key_arn: str
    # Ref of a resource whose physical id the service assigns (`WebsocketAPI`: the id).
    physical_ids: dict[str, str] = field(default_factory=dict)
    # Stream label of each table with a stream, by table name (the part of a StreamArn
    # after `/stream/`, a creation time).
    stream_labels: dict[str, str] = field(default_factory=dict)


def _name(template: dict[str, Any], logical: str, prop: str, env: Environment) -> str:
    return str(resolve(template["Resources"][logical]["Properties"][prop], template, env))


def _arn(template: dict[str, Any], logical: str, env: Environment) -> str:
    resource = template["Resources"][logical]
    kind = resource["Type"]
    region = env.region
    if kind == "AWS::DynamoDB::Table":
        return f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT}:table/" + _name(
            template, logical, "TableName", env)
    if kind == "AWS::S3::Bucket":
        return f"arn:{PARTITION}:s3:::" + _name(template, logical, "BucketName", env)
    if kind == "AWS::KMS::Key":
        return env.key_arn
    if kind == "AWS::SQS::Queue":
        return f"arn:{PARTITION}:sqs:{region}:{ACCOUNT}:" + _name(template, logical,
                                                                  "QueueName", env)
    if kind == "AWS::Logs::LogGroup":
        return (f"arn:{PARTITION}:logs:{region}:{ACCOUNT}:log-group:"
                + _name(template, logical, "LogGroupName", env) + ":*")
    raise ValueError(f"no ARN rule for {kind} ({logical})")


def _stream_arn(template: dict[str, Any], logical: str, env: Environment) -> str:
    resource = template["Resources"][logical]
    if resource["Type"] != "AWS::DynamoDB::Table" or "StreamSpecification" not in resource[
            "Properties"]:
        raise ValueError(f"{logical} has no stream")
    name = _name(template, logical, "TableName", env)
    if name not in env.stream_labels:
        raise ValueError(f"no stream label for table {name}")
    return f"{_arn(template, logical, env)}/stream/{env.stream_labels[name]}"


def _variable(name: str, template: dict[str, Any], env: Environment,
              local: dict[str, Any]) -> str:
    if name in local:
        return str(resolve(local[name], template, env))
    pseudo = {"AWS::Region": env.region, "AWS::AccountId": ACCOUNT,
              "AWS::Partition": PARTITION, "AWS::URLSuffix": "amazonaws.com"}
    if name in pseudo:
        return pseudo[name]
    if name in env.parameters:
        return env.parameters[name]
    if name in env.physical_ids:
        return env.physical_ids[name]
    if name.endswith(".Arn"):
        return _arn(template, name[:-4], env)
    raise ValueError(f"cannot resolve ${{{name}}}")


def resolve(value: Any, template: dict[str, Any], env: Environment) -> Any:
    """`value` with every intrinsic function replaced by what it means in `env`."""
    if isinstance(value, list):
        return [resolve(v, template, env) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return _variable(value["Ref"], template, env, {})
    if set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        text, local = (body, {}) if isinstance(body, str) else (body[0], body[1])
        return re.sub(r"\$\{([^}!]+)\}", lambda m: _variable(m.group(1), template, env, local),
                      text)
    if set(value) == {"Fn::GetAtt"}:
        logical, attribute = value["Fn::GetAtt"]
        if attribute == "StreamArn":
            return _stream_arn(template, logical, env)
        if attribute != "Arn":
            raise ValueError(f"GetAtt {logical}.{attribute} is not supported")
        return _arn(template, logical, env)
    return {k: resolve(v, template, env) for k, v in value.items()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            if key not in context:
                return False
            actual = context[key]
            wanted = [str(v) for v in _as_list(expected)]
            if operator == "StringEquals":
                ok = actual in wanted
            elif operator == "StringNotEquals":
                ok = actual not in wanted
            elif operator == "StringLike":
                ok = any(_matches(w, actual) for w in wanted)
            elif operator == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            else:
                raise ValueError(f"condition operator {operator} is not supported")
            if not ok:
                return False
    return True


def statement_matches(statement: dict[str, Any], request: Authorization) -> bool:
    for unsupported in ("NotAction", "NotResource", "NotPrincipal"):
        if unsupported in statement:
            raise ValueError(f"{unsupported} is not supported")
    if not any(_matches(a, request.action, case_sensitive=False)
               for a in _as_list(statement["Action"])):
        return False
    if not any(_matches(r, request.resource) for r in _as_list(statement["Resource"])):
        return False
    return _condition_holds(statement.get("Condition", {}), request.context)


@dataclass
class Decision:
    allowed: bool
    by: str | None  # Sid of the deciding statement


def evaluate(policies: list[dict[str, Any]], request: Authorization) -> Decision:
    """IAM's answer for `request` under all `policies` (identity and resource policies
    of one account: any Allow grants, any Deny refuses)."""
    allow = None
    for policy in policies:
        for statement in _as_list(policy["Statement"]):
            if not statement_matches(statement, request):
                continue
            if statement["Effect"] == "Deny":
                return Decision(False, statement.get("Sid"))
            allow = allow or statement.get("Sid", "?")
    return Decision(allow is not None, allow)
