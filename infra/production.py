"""Rules that make a packaged template production-ready, applied per resource kind.

`harden(template, stage)` runs after `chalice package` has merged infra/tables.yaml
and infra/production.yaml. Each rule applies to every resource of its kind, so a table,
function, schedule or stream added later gets the same treatment without anyone
remembering to add it (docs/operations.md lists them):

- parameters: the stage's names become the only allowed values, so a stack of one
  stage cannot be deployed with another stage's tables, bucket or key;
- stateful resources (tables, buckets, keys): retained on stack deletion and on
  replacement; tables get point-in-time recovery; log groups and queues say
  explicitly that they go with the stack;
- every function: its own log group with retention (and no CreateLogGroup right),
  active tracing, the stage's secrets resolved from Secrets Manager at deploy time,
  metrics settings, Errors and Throttles alarms, and the stage policy on its role;
- scheduled functions: failures go to the FailedInvocations queue (no blind retry: the
  next run picks the work up), and an alarm fires when the job stops running;
- stream functions: bisect on error, bounded retries, failed batches to the queue, an
  iterator-age alarm;
- every table: an alarm on throttled reads or writes.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from infra.policy import (FAILURES, functions, log_group_id, stage_policy, stream_sources)
from infra.stages import Stage

Template = dict[str, Any]

STATEFUL = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key")
# State that may go with the stack, said explicitly: logs expire anyway, and failed
# events are kept for inspection, not as data.
TRANSIENT = ("AWS::Logs::LogGroup", "AWS::SQS::Queue")
SECRET_KEYS = ("ACCESS_TOKEN", "CURSOR_SECRET")
METRICS_NAMESPACE = "WildDuck"
ALARM_TOPIC = {"Ref": "AlarmTopic"}
# Seconds per unit of a `rate(...)` schedule expression.
_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400,
               "days": 86400}


def _pin_parameters(template: Template, stage: Stage) -> None:
    values = {**stage.parameters, "ApiStage": stage.api_stage}
    for name, value in values.items():
        parameter = template["Parameters"][name]
        parameter["Default"] = value
        parameter["AllowedValues"] = [value]


def _retain_state(template: Template) -> None:
    for resource in template["Resources"].values():
        if resource.get("Type") in TRANSIENT:
            resource.setdefault("DeletionPolicy", "Delete")
            resource.setdefault("UpdateReplacePolicy", "Delete")
        if resource.get("Type") not in STATEFUL:
            continue
        resource["DeletionPolicy"] = "Retain"
        resource["UpdateReplacePolicy"] = "Retain"
        if resource["Type"] == "AWS::DynamoDB::Table":
            resource["Properties"]["PointInTimeRecoverySpecification"] = {
                "PointInTimeRecoveryEnabled": True}


def _alarm(name: str, description: str, namespace: str, metric: str,
           dimensions: list[dict[str, Any]], *, statistic: str = "Sum", period: int = 300,
           threshold: float = 1, comparison: str = "GreaterThanOrEqualToThreshold",
           missing: str = "notBreaching", evaluation_periods: int = 1) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": {"Fn::Sub": "wildduck-${Stage}-%s" % name},
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric,
        "Dimensions": dimensions, "Statistic": statistic, "Period": period,
        "EvaluationPeriods": evaluation_periods, "Threshold": threshold,
        "ComparisonOperator": comparison, "TreatMissingData": missing,
        "AlarmActions": [ALARM_TOPIC]}}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "-", name).lower()


def schedule_seconds(expression: str) -> int | None:
    """Period of a `rate(n unit)` expression; None for cron expressions."""
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
    return int(match.group(1)) * _RATE_UNITS[match.group(2)] if match else None


def _secret_reference(key: str) -> dict[str, Any]:
    # Empty version stage, version id from the parameter (empty = AWSCURRENT).
    return {"Fn::Sub": "{{resolve:secretsmanager:${SecretName}:SecretString:%s::"
                       "${SecretsVersionId}}}" % key}


def _function_basics(template: Template, name: str, stage: Stage) -> None:
    resources = template["Resources"]
    props = resources[name]["Properties"]
    group = log_group_id(name)
    resources[group] = {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": {"Fn::Sub": "/wildduck/${Stage}/%s" % name},
        "RetentionInDays": {"Ref": "LogRetentionDays"}}}
    props["LoggingConfig"] = {"LogGroup": {"Ref": group}, "LogFormat": "Text"}
    props["Tracing"] = "Active"
    variables = props.setdefault("Environment", {}).setdefault("Variables", {})
    for key in SECRET_KEYS:
        variables[key] = _secret_reference(key)
    variables["METRICS_NAMESPACE"] = METRICS_NAMESPACE
    variables["METRICS_SERVICE"] = f"wildduck-{stage.name}"
    dimension = [{"Name": "FunctionName", "Value": {"Ref": name}}]
    label = _kebab(name)
    resources[f"{name}ErrorsAlarm"] = _alarm(
        f"{label}-errors", f"{name} failed (unhandled error, timeout or crash).",
        "AWS/Lambda", "Errors", dimension)
    resources[f"{name}ThrottlesAlarm"] = _alarm(
        f"{label}-throttles", f"{name} was throttled (account or reserved concurrency).",
        "AWS/Lambda", "Throttles", dimension)


def _scheduled(template: Template, name: str) -> None:
    resources = template["Resources"]
    props = resources[name]["Properties"]
    schedules = [event for event in props.get("Events", {}).values()
                 if event.get("Type") == "Schedule"]
    if not schedules:
        return
    # A failed run is not retried by Lambda: the next scheduled run continues the work
    # (every job is idempotent), and the failed event is kept in the queue.
    props["EventInvokeConfig"] = {
        "MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {"OnFailure": {
            "Type": "SQS", "Destination": {"Fn::GetAtt": [FAILURES, "Arn"]}}}}
    period = min(schedule_seconds(event["Properties"]["Schedule"]) or 86400
                 for event in schedules)
    # Not running at all (schedule disabled, deploy broke it) is a failure too; the
    # alarm looks at twice the period, rounded up to whole minutes, capped at a day.
    window = min(max(2 * period, 600), 86400)
    window -= window % 60
    resources[f"{name}NotRunningAlarm"] = _alarm(
        f"{_kebab(name)}-not-running", f"{name} did not run in {window} seconds.",
        "AWS/Lambda", "Invocations", [{"Name": "FunctionName", "Value": {"Ref": name}}],
        period=window, threshold=1, comparison="LessThanThreshold", missing="breaching")


def _streams(template: Template) -> None:
    resources = template["Resources"]
    for name, event_name, _ in stream_sources(template):
        props = resources[name]["Properties"]["Events"][event_name]["Properties"]
        props.setdefault("BisectBatchOnFunctionError", True)
        props.setdefault("MaximumRetryAttempts", 5)
        props.setdefault("MaximumRecordAgeInSeconds", 3600)
        props.setdefault("DestinationConfig", {"OnFailure": {
            "Destination": {"Fn::GetAtt": [FAILURES, "Arn"]}}})
        resources[f"{name}IteratorAgeAlarm"] = _alarm(
            f"{_kebab(name)}-iterator-age",
            f"{name} is over a minute behind its stream.", "AWS/Lambda", "IteratorAge",
            [{"Name": "FunctionName", "Value": {"Ref": name}}], statistic="Maximum",
            threshold=60000, comparison="GreaterThanThreshold")


def _table_alarms(template: Template) -> None:
    resources = template["Resources"]
    for name in sorted(resources):
        if resources[name].get("Type") != "AWS::DynamoDB::Table":
            continue
        table = {"Name": "TableName", "Value": {"Ref": name}}
        resources[f"{name}ThrottledAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": "wildduck-${Stage}-%s-throttled" % _kebab(name)},
            "AlarmDescription": f"{name}: reads or writes throttled (on-demand limits).",
            "Metrics": [
                {"Id": "reads", "ReturnData": False, "MetricStat": {
                    "Metric": {"Namespace": "AWS/DynamoDB", "MetricName": "ReadThrottleEvents",
                               "Dimensions": [table]}, "Period": 300, "Stat": "Sum"}},
                {"Id": "writes", "ReturnData": False, "MetricStat": {
                    "Metric": {"Namespace": "AWS/DynamoDB",
                               "MetricName": "WriteThrottleEvents", "Dimensions": [table]},
                    "Period": 300, "Stat": "Sum"}},
                {"Id": "throttled", "Expression": "reads + writes",
                 "Label": "throttled requests", "ReturnData": True}],
            "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching", "AlarmActions": [ALARM_TOPIC]}}


def _roles(template: Template, stage: Stage) -> None:
    """The stage policy replaces whatever chalice put in each function's role."""
    resources = template["Resources"]
    document = stage_policy(template)
    for name in functions(template):
        role = resources[name]["Properties"].get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise ValueError(f"{name}: expected a role from the template, got {role!r}")
        role_props = resources[role["Fn::GetAtt"][0]]["Properties"]
        role_props["Policies"] = [{"PolicyName": f"wildduck-{stage.name}",
                                   "PolicyDocument": copy.deepcopy(document)}]


def harden(template: Template, stage: Stage) -> Template:
    """A copy of the packaged `template` with every production rule applied."""
    result = copy.deepcopy(template)
    _pin_parameters(result, stage)
    for name in functions(result):
        _function_basics(result, name, stage)
        _scheduled(result, name)
    _streams(result)
    _retain_state(result)
    _table_alarms(result)
    _roles(result, stage)
    return result
