"""The packaged production template: linted clean, stateful resources kept, every
function observed, secrets from Secrets Manager, names pinned to the stage; the journal
stream's handler and the websocket handlers get their event source settings, endpoint,
alarms and exactly the scoped grants they need from the per-resource rules.
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
    assert len(stateful) == 18  # 16 tables (addressregister the newest), the bucket, the key
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
    statement, ses = template["Resources"]["MailBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}
    assert ses["Principal"] == {"Service": "ses.amazonaws.com"}
    assert ses["Action"] == "s3:PutObject"
    assert ses["Resource"] == {"Fn::Sub": "${MailBucket.Arn}/inbound/*"}
    assert rules["delivered-inbound"]["Prefix"] == "inbound/"


def test_ses_stores_then_invokes_delivery_asynchronously_with_failures_queued() -> None:
    resources = packaged_template("prod")["Resources"]
    rule = resources["InboundRule"]["Properties"]["Rule"]
    s3, invoke = rule["Actions"]
    assert s3["S3Action"] == {"BucketName": {"Ref": "MailBucket"},
                              "ObjectKeyPrefix": "inbound/"}
    assert invoke["LambdaAction"]["FunctionArn"] == {"Fn::GetAtt": ["SesInbound", "Arn"]}
    assert invoke["LambdaAction"]["InvocationType"] == "Event"
    permission = resources["InboundInvokePermission"]["Properties"]
    assert permission["Principal"] == "ses.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    invoke_config = resources["SesInbound"]["Properties"]["EventInvokeConfig"]
    assert invoke_config["MaximumRetryAttempts"] == 2
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedInvocations", "Arn"]}


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
    scheduled = {"PurgeDeletedMailboxes", "ExpireMessages", "PurgeDeletedUsers",
                 "SweepMailBucket", "ReindexSearch", "ResetQuotas"}
    assert set(functions) == {"APIHandler", "WebsocketConnect", "WebsocketMessage",
                              "WebsocketDisconnect", "JournalStream", "MessagesStream",
                              "SesInbound", *scheduled}
    for name, function in functions.items():
        props = function["Properties"]
        group = resources[f"{name}LogGroup"]["Properties"]
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}LogGroup"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert props["Tracing"] == "Active"
        for alarm in ("ErrorsAlarm", "ThrottlesAlarm"):
            assert resources[f"{name}{alarm}"]["Properties"]["AlarmActions"] == [
                {"Ref": "AlarmTopic"}]
        if name in scheduled or name == "SesInbound":
            invoke = props["EventInvokeConfig"]
            assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {
                "Fn::GetAtt": ["FailedInvocations", "Arn"]}
            assert (f"{name}NotRunningAlarm" in resources) is (name in scheduled)
        else:  # invoked synchronously (API Gateway) or by an event source mapping
            assert "EventInvokeConfig" not in props and f"{name}NotRunningAlarm" not in resources
    assert "JournalStreamIteratorAgeAlarm" in resources


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
    assert len([k for k in resources if k.endswith("TableThrottledAlarm")]) == 16


def test_schedule_periods() -> None:
    assert schedule_seconds("rate(5 minutes)") == 300
    assert schedule_seconds("rate(1 day)") == 86400
    assert schedule_seconds("cron(0 3 * * ? *)") is None


STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords",
                  "dynamodb:GetShardIterator", "dynamodb:ListStreams"]


def test_the_journal_stream_reads_its_table_and_hands_failures_to_the_queue() -> None:
    template = packaged_template("prod")
    resources = template["Resources"]
    events = resources["JournalStream"]["Properties"]["Events"]
    (source,) = [event["Properties"] for event in events.values()
                 if event["Type"] == "DynamoDB"]
    # the app declares a placeholder ARN; the rule makes it this stack's table's stream
    assert source["Stream"] == {"Fn::GetAtt": ["JournalTable", "StreamArn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BisectBatchOnFunctionError"] is True
    assert source["MaximumRetryAttempts"] == 5
    assert source["MaximumRecordAgeInSeconds"] == 3600
    assert source["DestinationConfig"] == {"OnFailure": {
        "Destination": {"Fn::GetAtt": ["FailedInvocations", "Arn"]}}}
    alarm = resources["JournalStreamIteratorAgeAlarm"]["Properties"]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
        "IteratorAge", "Maximum", 60000)
    # one failure queue for the stack: the one the alarm watches and the policy names
    assert list(_of_type(template, "AWS::SQS::Queue")) == ["FailedInvocations"]


def test_the_search_indexer_reads_the_messages_stream_from_its_oldest_record() -> None:
    resources = packaged_template("prod")["Resources"]
    events = resources["MessagesStream"]["Properties"]["Events"]
    (source,) = [event["Properties"] for event in events.values()
                 if event["Type"] == "DynamoDB"]
    assert source["Stream"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    assert source["StartingPosition"] == "TRIM_HORIZON"  # the day before a deploy too
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MessagesStreamIteratorAgeAlarm" in resources
    assert "ReindexSearch" in resources and "SearchTable" in resources


def test_functions_post_to_the_stage_of_their_own_websocket_api() -> None:
    template = packaged_template("prod")
    stage = template["Resources"]["WebsocketAPIStage"]["Properties"]["StageName"]
    assert stage == load("prod").api_stage
    endpoint = {"Fn::Sub": "https://${WebsocketAPI}.execute-api.${AWS::Region}."
                           "${AWS::URLSuffix}/${ApiStage}"}
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        assert function["Properties"]["Environment"]["Variables"][
            "WEBSOCKET_ENDPOINT"] == endpoint, name


def test_stream_and_websocket_handlers_get_exactly_the_scoped_grants_they_need() -> None:
    """The stream handlers (journal, messages) and the websocket handlers: stream reads
    on those two streams only, posts to connections of this stack's websocket API at its
    own stage only, failed batches to the stack's queue only; all from the stage policy,
    with no separate policy resource that could grant more."""
    template = packaged_template("prod")
    resources = template["Resources"]
    assert _of_type(template, "AWS::IAM::Policy") == {}
    for function in ("JournalStream", "WebsocketConnect", "WebsocketMessage",
                     "WebsocketDisconnect"):
        assert "DependsOn" not in resources[function]
        role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        (policy,) = resources[role]["Properties"]["Policies"]
        assert policy["PolicyDocument"] == stage_policy(template)
        by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
        assert by_sid["Streams"]["Action"] == STREAM_ACTIONS
        assert by_sid["Streams"]["Resource"] == [{"Fn::GetAtt": ["JournalTable", "StreamArn"]},
                                                 {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}]
        assert by_sid["Websockets"]["Action"] == ["execute-api:ManageConnections"]
        assert by_sid["Websockets"]["Resource"] == [{"Fn::Sub": (
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${WebsocketAPI}/${ApiStage}/POST/@connections/*")}]
        assert by_sid["FailedInvocations"] == {
            "Sid": "FailedInvocations", "Effect": "Allow", "Action": ["sqs:SendMessage"],
            "Resource": [{"Fn::GetAtt": ["FailedInvocations", "Arn"]}]}
        # no other statement grants any of it
        for sid, statement in by_sid.items():
            if sid not in ("Streams", "Websockets", "FailedInvocations"):
                assert not any(action.startswith(("execute-api:", "sqs:"))
                               or action in STREAM_ACTIONS
                               for action in statement["Action"]), sid


def _with_stream_handler(stream: Any) -> dict[str, Any]:
    """The packaged template plus chalice's output for one more stream handler reading
    `stream` (chalice writes the ARN given in the code as it is), with harden()'s
    additions removed so that it can run again."""
    template = copy.deepcopy(packaged_template("prod"))
    resources = template["Resources"]
    for name in [k for k in resources if k.endswith(("Alarm", "LogGroup"))
                 and k not in ("Api5xxAlarm", "Api4xxAlarm", "ApiLatencyAlarm",
                               "FailedInvocationsAlarm")]:
        del resources[name]
    handler = copy.deepcopy(resources["JournalStream"])
    handler["Properties"].pop("LoggingConfig")
    handler["Properties"]["Handler"] = "app.index_messages"
    handler["Properties"]["Role"] = {"Fn::GetAtt": ["IndexMessagesRole", "Arn"]}
    handler["Properties"]["Events"] = {"IndexMessagesDynamodbEventSource": {
        "Type": "DynamoDB", "Properties": {"Stream": stream, "BatchSize": 100,
                                           "StartingPosition": "LATEST"}}}
    resources["IndexMessages"] = handler
    resources["IndexMessagesRole"] = copy.deepcopy(resources["JournalStreamRole"])
    return template


def test_a_new_stream_handler_gets_its_tables_stream_rules_and_grant() -> None:
    placeholder = ("arn:aws:dynamodb:us-east-1:000000000000:table/wildduck-prod-messages/"
                   "stream/latest")
    resources = harden(_with_stream_handler(placeholder), load("prod"))["Resources"]
    source = resources["IndexMessages"]["Properties"]["Events"][
        "IndexMessagesDynamodbEventSource"]["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedInvocations", "Arn"]}
    assert {"IndexMessagesIteratorAgeAlarm", "IndexMessagesLogGroup",
            "IndexMessagesErrorsAlarm"} <= set(resources)
    policy = resources["IndexMessagesRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    streams = next(s for s in policy["Statement"] if s["Sid"] == "Streams")
    assert streams["Resource"] == [{"Fn::GetAtt": ["MessagesTable", "StreamArn"]},
                                   {"Fn::GetAtt": ["JournalTable", "StreamArn"]}]


@pytest.mark.parametrize("stream", [
    # another stage's table, a table this stack does not have, a table without a stream
    "arn:aws:dynamodb:us-east-1:000000000000:table/wildduck-dev-journal/stream/latest",
    "arn:aws:dynamodb:us-east-1:000000000000:table/wildduck-prod-other/stream/latest",
    {"Fn::GetAtt": ["UsersTable", "StreamArn"]},
])
def test_a_stream_handler_of_anything_but_a_streamed_table_of_the_stack_is_refused(
        stream: Any) -> None:
    with pytest.raises(ValueError, match="IndexMessages"):
        harden(_with_stream_handler(stream), load("prod"))


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
