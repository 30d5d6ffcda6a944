"""The deploy script's conversation with AWS, against stubbed clients: what it uploads,
which change set it asks for, and how it handles a missing secret, no changes and a
stack that rolled back."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra import deploy
from infra.stages import load

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wildduck/prod/api-AbCdEf"


@pytest.fixture
def clients() -> Any:
    session = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x",
                                    aws_secret_access_key="x")
    made = deploy.Clients(session.client("cloudformation"), session.client("s3"),
                          session.client("secretsmanager"))
    stubs = {name: Stubber(getattr(made, name)) for name in
             ("cloudformation", "s3", "secretsmanager")}
    for stub in stubs.values():
        stub.activate()
    yield made, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    template = {"Parameters": {"Stage": {"AllowedValues": ["prod"]}, "SecretsVersionId": {},
                               "AlarmEmail": {}},
                "Resources": {"APIHandler": {"Type": "AWS::Serverless::Function",
                                             "Properties": {"CodeUri": "./deployment.zip"}}}}
    (tmp_path / "sam.json").write_text(json.dumps(template))
    (tmp_path / "deployment.zip").write_bytes(b"zip")
    return tmp_path


def _secret_found(stubs: dict[str, Stubber]) -> None:
    stubs["secretsmanager"].add_response(
        "describe_secret", {"ARN": SECRET_ARN, "VersionIdsToStages": {
            "0" * 32: ["AWSPREVIOUS"], "1" * 32: ["AWSCURRENT"]}},
        {"SecretId": "wildduck/prod/api"})


def _absent(stubs: dict[str, Stubber], key_prefix: str) -> None:
    stubs["s3"].add_client_error("head_object", "404", http_status_code=404,
                                 expected_params={"Bucket": "artifacts", "Key": ANY})
    stubs["s3"].add_response("put_object", {}, {"Bucket": "artifacts", "Key": ANY, "Body": ANY,
                                                "ServerSideEncryption": "AES256"})


def test_first_deploy_uploads_and_creates_the_stack(clients: Any, out: Path) -> None:
    made, stubs = clients
    _secret_found(stubs)
    _absent(stubs, "code")
    _absent(stubs, "template")
    cfn = stubs["cloudformation"]
    missing = "Stack with id wildduck-prod does not exist"
    cfn.add_client_error("describe_stacks", "ValidationError", missing)  # existing?
    cfn.add_client_error("describe_stacks", "ValidationError", missing)  # apply_change_set
    cfn.add_response("create_change_set", {"Id": "cs"}, {
        "StackName": "wildduck-prod", "ChangeSetName": ANY, "ChangeSetType": "CREATE",
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Parameters": [{"ParameterKey": "SecretsVersionId", "ParameterValue": "1" * 32}],
        "Tags": [{"Key": "wildduck:stage", "Value": "prod"}], "TemplateURL": ANY})
    cfn.add_response("describe_change_set", {"Status": "CREATE_COMPLETE",
                                             "ExecutionStatus": "AVAILABLE"})
    cfn.add_response("execute_change_set", {})
    cfn.add_response("describe_stacks", {"Stacks": [{
        "StackName": "wildduck-prod", "StackStatus": "CREATE_COMPLETE",
        "CreationTime": "2024-01-01T00:00:00Z",
        "Outputs": [{"OutputKey": "EndpointURL", "OutputValue": "https://x/api/"}]}]})
    outputs = deploy.deploy(load("prod"), "artifacts", out, made,
                            wait=lambda waiter: None)
    assert outputs == {"EndpointURL": "https://x/api/"}


def test_an_update_keeps_previous_parameter_values(clients: Any, out: Path) -> None:
    made, stubs = clients
    template = json.loads((out / "sam.json").read_text())
    assert deploy._parameters(template, {"SecretsVersionId": "v"}, existing=True) == [
        {"ParameterKey": "AlarmEmail", "UsePreviousValue": True},
        {"ParameterKey": "SecretsVersionId", "ParameterValue": "v"},
        {"ParameterKey": "Stage", "UsePreviousValue": True}]


def test_a_missing_secret_stops_before_anything_is_uploaded(clients: Any, out: Path) -> None:
    made, stubs = clients
    stubs["secretsmanager"].add_client_error("describe_secret", "ResourceNotFoundException")
    with pytest.raises(deploy.DeployError, match="make secrets"):
        deploy.deploy(load("prod"), "artifacts", out, made)


def test_a_package_of_another_stage_is_refused(clients: Any, out: Path) -> None:
    made, _ = clients
    with pytest.raises(deploy.DeployError, match="packaged for"):
        deploy.deploy(load("dev"), "artifacts", out, made)


def test_a_stack_that_rolled_back_must_be_deleted_first(clients: Any) -> None:
    made, stubs = clients
    stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [{
        "StackName": "s", "StackStatus": "ROLLBACK_COMPLETE",
        "CreationTime": "2024-01-01T00:00:00Z"}]})
    with pytest.raises(deploy.DeployError, match="ROLLBACK_COMPLETE"):
        deploy.apply_change_set(made, "s", "https://t", None, [], {})


def test_secrets_are_created_once_with_random_values(clients: Any) -> None:
    made, stubs = clients
    sm = stubs["secretsmanager"]
    sm.add_client_error("describe_secret", "ResourceNotFoundException")
    secret = Capture()
    sm.add_response("create_secret", {"ARN": SECRET_ARN}, {
        "Name": "wildduck/prod/api", "SecretString": secret, "Description": ANY, "Tags": ANY})
    sm.add_response("describe_secret", {"ARN": SECRET_ARN})
    assert deploy.create_secrets(load("prod"), made) == SECRET_ARN
    assert deploy.create_secrets(load("prod"), made) == SECRET_ARN  # exists: untouched
    values = json.loads(secret.value)
    assert len(values["ACCESS_TOKEN"]) >= 32 and len(values["CURSOR_SECRET"]) >= 48


class Capture:
    """Matches any value in a stubbed request and keeps it."""

    value: Any = None

    def __eq__(self, other: object) -> bool:
        self.value = other
        return True
