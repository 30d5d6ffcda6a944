"""Deploy, tear down and prepare a stage with boto3 alone (no AWS CLI, no SAM CLI).

    python -m infra.deploy secrets   --stage prod --region eu-west-1
    python -m infra.deploy bootstrap --region eu-west-1 --artifact-bucket my-artifacts
    python -m infra.deploy deploy    --stage prod --region eu-west-1 --artifact-bucket my-artifacts
    python -m infra.deploy destroy   --stage prod --region eu-west-1 --yes

`deploy` expects `python -m infra.package` to have written `out/<stage>/` (`make
deploy` runs both). It does what `aws cloudformation package` + `deploy` do: uploads
the code and the template to the artifact bucket, then creates and executes a change
set, and prints the failed events if the stack rolls back. Credentials come from the
usual boto3 chain (environment, profile, SSO).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import secrets as random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from infra.stages import ROOT, Stage, load

ACCOUNT_TEMPLATE = ROOT / "infra" / "account.yaml"
ACCOUNT_STACK = "wildduck-account"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# Stack states from which a change set cannot proceed without help.
STUCK = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}


class DeployError(RuntimeError):
    """Deployment stopped; the message says why and what to do."""


@dataclass
class Clients:
    """The AWS clients a command uses (tests pass stubbed ones)."""
    cloudformation: Any
    s3: Any
    secretsmanager: Any

    @classmethod
    def for_region(cls, region: str) -> "Clients":
        import boto3
        session = boto3.session.Session(region_name=region)
        return cls(session.client("cloudformation"), session.client("s3"),
                   session.client("secretsmanager"))


def _say(message: str) -> None:
    print(message, flush=True)


def create_secrets(stage: Stage, clients: Clients) -> str:
    """Create the stage's secret with random values unless it exists; never prints or
    overwrites a value. Returns the secret's ARN."""
    try:
        existing = clients.secretsmanager.describe_secret(SecretId=stage.secret_name)
        _say(f"secret {stage.secret_name} exists; left unchanged")
        return str(existing["ARN"])
    except clients.secretsmanager.exceptions.ResourceNotFoundException:
        pass
    value = json.dumps({"ACCESS_TOKEN": random.token_urlsafe(32),
                        "CURSOR_SECRET": random.token_urlsafe(48)})
    created = clients.secretsmanager.create_secret(
        Name=stage.secret_name, SecretString=value,
        Description=f"wildduck {stage.name}: API access token and cursor signing key",
        Tags=[{"Key": "wildduck:stage", "Value": stage.name}])
    _say(f"secret {stage.secret_name} created (read ACCESS_TOKEN with "
         f"`aws secretsmanager get-secret-value --secret-id {stage.secret_name}`)")
    return str(created["ARN"])


def current_secret_version(stage: Stage, clients: Clients) -> str:
    try:
        described = clients.secretsmanager.describe_secret(SecretId=stage.secret_name)
    except clients.secretsmanager.exceptions.ResourceNotFoundException:
        raise DeployError(f"secret {stage.secret_name} does not exist: run "
                          f"`make secrets STAGE={stage.name} REGION=...` first") from None
    for version, stages in described.get("VersionIdsToStages", {}).items():
        if "AWSCURRENT" in stages:
            return str(version)
    raise DeployError(f"secret {stage.secret_name} has no AWSCURRENT version")


def _upload(clients: Clients, bucket: str, key: str, body: bytes) -> None:
    try:
        clients.s3.head_object(Bucket=bucket, Key=key)
        return  # content-addressed: already there
    except clients.s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    clients.s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")


def prepare_template(template: dict[str, Any], stage: Stage, bucket: str,
                     clients: Clients, code: bytes) -> str:
    """Upload the code, point every function at it, upload the template; its URL."""
    code_key = f"wildduck/{stage.name}/code-{hashlib.sha256(code).hexdigest()}.zip"
    _upload(clients, bucket, code_key, code)
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{code_key}"
    body = json.dumps(template, sort_keys=True).encode()
    template_key = f"wildduck/{stage.name}/template-{hashlib.sha256(body).hexdigest()}.json"
    _upload(clients, bucket, template_key, body)
    region = clients.s3.meta.region_name
    return f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"


def _stack_status(clients: Clients, name: str) -> str | None:
    try:
        stacks = clients.cloudformation.describe_stacks(StackName=name)["Stacks"]
    except clients.cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _parameters(template: dict[str, Any], given: dict[str, str],
                existing: bool) -> list[dict[str, Any]]:
    """Given values, else the previous value of an existing stack (an alarm address set
    once stays), else the template default."""
    result = []
    for name in sorted(template.get("Parameters", {})):
        if name in given:
            result.append({"ParameterKey": name, "ParameterValue": given[name]})
        elif existing:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
    return result


def apply_change_set(clients: Clients, stack: str, template_url: str | None,
                     template_body: str | None, parameters: list[dict[str, Any]],
                     tags: dict[str, str], wait: Callable[[str], None] | None = None) -> bool:
    """Create a change set, execute it, wait; False when there was nothing to change."""
    cfn = clients.cloudformation
    status = _stack_status(clients, stack)
    if status in STUCK:
        raise DeployError(f"stack {stack} is {status}: inspect its events, delete it "
                          "(`make destroy`) and deploy again")
    change_type = "UPDATE" if status and status != "REVIEW_IN_PROGRESS" else "CREATE"
    name = f"deploy-{int(time.time())}"
    request: dict[str, Any] = {
        "StackName": stack, "ChangeSetName": name, "ChangeSetType": change_type,
        "Capabilities": CAPABILITIES, "Parameters": parameters,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())]}
    if template_url:
        request["TemplateURL"] = template_url
    else:
        request["TemplateBody"] = template_body
    cfn.create_change_set(**request)
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120})
    except Exception:  # the waiter fails on FAILED, which includes "no changes"
        described = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        reason = str(described.get("StatusReason", ""))
        if any(marker in reason for marker in NO_CHANGES):
            cfn.delete_change_set(StackName=stack, ChangeSetName=name)
            _say(f"{stack}: no changes")
            return False
        raise DeployError(f"change set failed: {reason}") from None
    _say(f"{stack}: executing {change_type.lower()} change set {name}")
    cfn.execute_change_set(StackName=stack, ChangeSetName=name)
    waiter = "stack_create_complete" if change_type == "CREATE" else "stack_update_complete"
    try:
        (wait or (lambda w: cfn.get_waiter(w).wait(
            StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 360})))(waiter)
    except Exception as error:
        raise DeployError(f"{stack} did not deploy:\n" + failed_events(clients, stack)) from error
    return True


def failed_events(clients: Clients, stack: str, limit: int = 15) -> str:
    events = clients.cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [event for event in events if str(event.get("ResourceStatus", "")).endswith("FAILED")]
    return "\n".join(f"  {event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
                     for event in failed[:limit]) or "  (no failed events)"


def deploy(stage: Stage, bucket: str, out: Path, clients: Clients,
           overrides: dict[str, str] | None = None,
           wait: Callable[[str], None] | None = None) -> dict[str, str]:
    """Deploy the packaged stage in `out`; returns the stack outputs."""
    template = json.loads((out / "sam.json").read_text())
    pinned = template["Parameters"]["Stage"].get("AllowedValues")
    if pinned != [stage.name]:
        raise DeployError(f"{out}/sam.json was packaged for {pinned}, not {stage.name}")
    given = {"SecretsVersionId": current_secret_version(stage, clients), **(overrides or {})}
    url = prepare_template(template, stage, bucket, clients, (out / "deployment.zip").read_bytes())
    existing = _stack_status(clients, stage.stack_name) is not None
    apply_change_set(clients, stage.stack_name, url, None,
                     _parameters(template, given, existing), {"wildduck:stage": stage.name},
                     wait)
    return stack_outputs(clients, stage.stack_name)


def stack_outputs(clients: Clients, stack: str) -> dict[str, str]:
    described = clients.cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def retained(template: dict[str, Any]) -> list[str]:
    return sorted(f"{res['Type']} {name}" for name, res in template["Resources"].items()
                  if res.get("DeletionPolicy") == "Retain")


def destroy(stage: Stage, clients: Clients, out: Path | None = None) -> None:
    cfn = clients.cloudformation
    if _stack_status(clients, stage.stack_name) is None:
        _say(f"{stage.stack_name} does not exist")
        return
    cfn.delete_stack(StackName=stage.stack_name)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=stage.stack_name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    _say(f"{stage.stack_name} deleted. Kept (DeletionPolicy Retain): tables "
         f"{stage.table_prefix}*, bucket {stage.mail_bucket}, the KMS key of "
         f"{stage.kms_alias} (its alias is gone) and secret {stage.secret_name}; "
         "see docs/operations.md, 'Teardown', to delete or re-import them.")
    if out and (out / "sam.json").exists():
        for line in retained(json.loads((out / "sam.json").read_text())):
            _say(f"  retained: {line}")


def bootstrap(bucket: str, clients: Clients, manage_api_gateway_account: bool) -> dict[str, str]:
    """The once-per-account-and-region stack: artifact bucket, API Gateway logging role."""
    body = ACCOUNT_TEMPLATE.read_text()
    params = [{"ParameterKey": "ArtifactBucketName", "ParameterValue": bucket},
              {"ParameterKey": "ManageApiGatewayAccount",
               "ParameterValue": "true" if manage_api_gateway_account else "false"}]
    apply_change_set(clients, ACCOUNT_STACK, None, body, params, {"wildduck:stack": "account"})
    return stack_outputs(clients, ACCOUNT_STACK)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["secrets", "bootstrap", "deploy", "destroy"])
    parser.add_argument("--stage")
    parser.add_argument("--region", required=True)
    parser.add_argument("--artifact-bucket")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--alarm-email", default=None)
    parser.add_argument("--no-api-gateway-account", action="store_true",
                        help="bootstrap: another stack already sets API Gateway's log role")
    parser.add_argument("--yes", action="store_true", help="destroy without asking")
    args = parser.parse_args(argv)
    clients = Clients.for_region(args.region)
    try:
        if args.command == "bootstrap":
            if not args.artifact_bucket:
                raise DeployError("--artifact-bucket is required")
            print(json.dumps(bootstrap(args.artifact_bucket, clients,
                                       not args.no_api_gateway_account), indent=1))
            return 0
        if not args.stage:
            raise DeployError("--stage is required")
        stage = load(args.stage)
        out = args.out or ROOT / "out" / stage.name
        if args.command == "secrets":
            create_secrets(stage, clients)
        elif args.command == "deploy":
            if not args.artifact_bucket:
                raise DeployError("--artifact-bucket is required")
            overrides = {} if args.alarm_email is None else {"AlarmEmail": args.alarm_email}
            print(json.dumps(deploy(stage, args.artifact_bucket, out, clients, overrides),
                             indent=1))
        else:
            if not args.yes and input(f"delete stack {stage.stack_name}? [y/N] ") != "y":
                return 1
            destroy(stage, clients, out)
    except (DeployError, ValueError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
