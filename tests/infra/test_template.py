"""The packaged production template: linted clean, stateful resources kept, every
function observed, secrets from Secrets Manager, names pinned to the stage; and the
per-resource rules applied to kinds the app does not have yet (stream handlers,
websockets), so issue 9's handlers get them when they land.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import package as packaging
from infra.policy import stage_policy
from infra.production import harden, schedule_seconds
from infra.stages import ROOT, StageError, load, stage_names
from tests.infra.packaged import REGION, packaged_template, template_path

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def _lint(path: Path) -> str:
    """cfn-lint with every rule, informational ones included; no ignores configured."""
    result = subprocess.run([str(CFN_LINT), "--regions", REGION, "--include-checks", "I",
                             "--", str(path)], capture_output=True, text=True)
    return (result.stdout + result.stderr).strip() if result.returncode else ""


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_finds_nothing_in_the_packaged_template(stage: str) -> None:
    assert _lint(template_path(stage)) == ""


def test_cfn_lint_finds_nothing_in_the_account_template() -> None:
    assert _lint(ROOT / "infra" / "account.yaml") == ""


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_tables_bucket_and_key_survive_deletion_and_replacement() -> None:
    template = packaged_template("prod")
    stateful = {**_of_type(template, "AWS::DynamoDB::Table"),
                **_of_type(template, "AWS::S3::Bucket"), **_of_type(template, "AWS::KMS::Key")}
    assert len(stateful) == 16
    for name, resource in stateful.items():
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == \
            ("Retain", "Retain"), name
    for name, table in _of_type(template, "AWS::DynamoDB::Table").items():
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True}, name


def test_the_bucket_is_versioned_tls_only_and_keeps_its_lifecycle_rules() -> None:
    template = packaged_template("prod")
    bucket = template["Resources"]["MailBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["abandoned-uploads"]["Prefix"] == "upload/"
    assert rules["noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    statement, = template["Resources"]["MailBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_parameters_are_pinned_to_the_stage_and_match_the_functions(stage: str) -> None:
    template = packaged_template(stage)
    names = load(stage)
    for name, value in names.parameters.items():
        assert template["Parameters"][name]["AllowedValues"] == [value]
    env = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert (env["TABLE_PREFIX"], env["MAIL_BUCKET"], env["KMS_KEY_ID"]) == (
        names.table_prefix, names.mail_bucket, names.kms_alias)
    assert template["Resources"]["SecretsKeyAlias"]["Properties"]["AliasName"] == {
        "Ref": "KmsAlias"}


def test_secrets_come_from_secrets_manager_in_every_function() -> None:
    template = packaged_template("prod")
    text = json.dumps(template)
    assert "packaging-only" not in text
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        for key in ("ACCESS_TOKEN", "CURSOR_SECRET"):
            assert env[key] == {"Fn::Sub": "{{resolve:secretsmanager:${SecretName}:"
                                           f"SecretString:{key}::${{SecretsVersionId}}}}}}"}, name


def test_every_function_has_logs_tracing_and_alarms() -> None:
    template = packaged_template("prod")
    resources = template["Resources"]
    functions = _of_type(template, "AWS::Serverless::Function")
    assert set(functions) == {"APIHandler", "PurgeDeletedMailboxes", "ExpireMessages",
                              "PurgeDeletedUsers", "SweepMailBucket"}
    for name, function in functions.items():
        props = function["Properties"]
        group = resources[f"{name}LogGroup"]["Properties"]
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}LogGroup"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert props["Tracing"] == "Active"
        for alarm in ("ErrorsAlarm", "ThrottlesAlarm"):
            assert resources[f"{name}{alarm}"]["Properties"]["AlarmActions"] == [
                {"Ref": "AlarmTopic"}]
        if name != "APIHandler":
            invoke = props["EventInvokeConfig"]
            assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {
                "Fn::GetAtt": ["FailedInvocations", "Arn"]}
            assert f"{name}NotRunningAlarm" in resources


def test_the_api_has_access_logs_throttling_tracing_and_alarms() -> None:
    template = packaged_template("prod")
    resources = template["Resources"]
    api = resources["RestAPI"]["Properties"]
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    fmt = api["AccessLogSetting"]["Format"]
    assert "$context.requestId" in fmt and "querystring" not in fmt.lower()
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert api["TracingEnabled"] is True
    assert {"Api5xxAlarm", "Api4xxAlarm", "ApiLatencyAlarm", "FailedInvocationsAlarm"} <= set(
        resources)
    assert len([k for k in resources if k.endswith("TableThrottledAlarm")]) == 14


def test_schedule_periods() -> None:
    assert schedule_seconds("rate(5 minutes)") == 300
    assert schedule_seconds("rate(1 day)") == 86400
    assert schedule_seconds("cron(0 3 * * ? *)") is None


def _future_template() -> dict[str, Any]:
    """The prod template plus what issue 9's stream and websocket handlers will add, as
    chalice generates them (checked against chalice 1.34's output)."""
    template = copy.deepcopy(packaged_template("prod"))
    resources = template["Resources"]
    base = copy.deepcopy(resources["ExpireMessages"])
    base["Properties"].pop("Events")
    for key in ("EventInvokeConfig", "LoggingConfig"):
        base["Properties"].pop(key)
    stream = copy.deepcopy(base)
    stream["Properties"]["Handler"] = "app.on_journal"
    stream["Properties"]["Role"] = {"Fn::GetAtt": ["OnJournalRole", "Arn"]}
    stream["Properties"]["Events"] = {"OnJournalDynamodbEventSource": {
        "Type": "DynamoDB", "Properties": {
            "Stream": {"Fn::GetAtt": ["JournalTable", "StreamArn"]}, "BatchSize": 100,
            "StartingPosition": "LATEST", "MaximumBatchingWindowInSeconds": 0}}}
    resources["OnJournal"] = stream
    resources["OnJournalRole"] = copy.deepcopy(resources["ExpireMessagesRole"])
    resources["WebsocketAPI"] = {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
        "Name": "wildduck-api-prod-websocket-api", "ProtocolType": "WEBSOCKET",
        "RouteSelectionExpression": "$request.body.action"}}
    # harden() runs on chalice's output; drop what it added so it can run again
    for name in [k for k in resources if k.endswith(("Alarm", "LogGroup"))
                 and k not in ("Api5xxAlarm", "Api4xxAlarm", "ApiLatencyAlarm",
                               "FailedInvocationsAlarm")]:
        del resources[name]
    return template


def test_stream_and_websocket_handlers_get_grants_alarms_and_failure_handling() -> None:
    hardened = harden(_future_template(), load("prod"))
    resources = hardened["Resources"]
    source = resources["OnJournal"]["Properties"]["Events"]["OnJournalDynamodbEventSource"][
        "Properties"]
    assert source["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedInvocations", "Arn"]}
    assert source["BisectBatchOnFunctionError"] is True and source["MaximumRetryAttempts"] == 5
    assert resources["OnJournalIteratorAgeAlarm"]["Properties"]["MetricName"] == "IteratorAge"
    assert "OnJournalLogGroup" in resources
    policy = resources["OnJournalRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Streams"]["Resource"] == [{"Fn::Sub": "${JournalTable.Arn}/stream/*"}]
    assert by_sid["Websockets"]["Action"] == ["execute-api:ManageConnections"]
    assert all("${WebsocketAPI}" in r["Fn::Sub"] for r in by_sid["Websockets"]["Resource"])
    # the API's role gets the same document: one policy per stage
    assert resources["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"] == policy


def test_without_streams_or_websockets_there_are_no_such_grants() -> None:
    sids = {s["Sid"] for s in stage_policy(packaged_template("prod"))["Statement"]}
    assert not sids & {"Streams", "Websockets", "Mail"}


def test_a_grant_added_to_the_chalice_policy_file_stops_packaging(tmp_path: Path,
                                                                  monkeypatch: Any) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Mail", "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}))
    monkeypatch.setattr(packaging, "CHALICE_POLICY", policy)
    with pytest.raises(packaging.PackageError, match="infra/policy.py"):
        packaging.check_chalice_policy()
    monkeypatch.undo()
    packaging.check_chalice_policy()  # the committed file is the placeholder


def test_only_stages_with_their_own_names_deploy() -> None:
    assert stage_names() == ["dev", "prod"]
    with pytest.raises(StageError):
        load("local")


def test_the_fragments_merge_without_conflict() -> None:
    merged = packaging.merge_template()
    assert "SecretsKey" in merged["Resources"] and "UsersTable" in merged["Resources"]
    assert merged["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]
    with pytest.raises(packaging.PackageError):
        packaging.merge({"a": {"b": 1}}, {"a": {"b": 2}})
