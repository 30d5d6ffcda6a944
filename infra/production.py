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
- stream functions: the event source reads the stream of the template's own table (the
  placeholder ARN the app declares is replaced by that table's `StreamArn`), reports
  failed records one by one (`streams.dispatch` answers Lambda's partial batch
  response), bisects on error, retries a bounded number of times, sends failed batches
  to the queue; an iterator-age alarm;
- websocket APIs: every function gets the management endpoint of the stage's websocket
  API as `WEBSOCKET_ENDPOINT` (its grant is infra/policy.py's);
- every table: an alarm on throttled reads or writes.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from infra.policy import (BUCKET, FAILURES, INBOUND_PREFIX, WEBSOCKET_API, functions,
                          log_group_id, stage_policy, stream_sources)
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


def _table_named(template: Template, stage: Stage, physical: str) -> str | None:
    """The logical id of the table whose name (`${TablePrefix}<name>`) is `physical`."""
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        table_name = resource["Properties"].get("TableName")
        if isinstance(table_name, dict) and set(table_name) == {"Fn::Sub"} and isinstance(
                table_name["Fn::Sub"], str):
            table_name = table_name["Fn::Sub"].replace("${TablePrefix}", stage.table_prefix)
        if table_name == physical:
            return name
    return None


def _stream_of(template: Template, stage: Stage, function: str, stream: Any) -> Any:
    """The event's stream as the table's `StreamArn`. The app declares a handler with a
    literal ARN naming the table (chalicelib/streams.placeholder_arn): chalice writes it
    as given, and it is only known once the table exists, so it becomes a reference to
    the table of this stack with that name; a stream of anything else is refused."""
    resources = template["Resources"]
    if isinstance(stream, str):
        match = re.fullmatch(r"arn:[^:]+:dynamodb:[^:]*:[^:]*:table/([^/]+)/stream/.+", stream)
        table = _table_named(template, stage, match.group(1)) if match else None
        if table is None:
            raise ValueError(f"{function}: reads the stream {stream!r}, which is not the "
                             "stream of a table of this template")
        stream = {"Fn::GetAtt": [table, "StreamArn"]}
    if not (isinstance(stream, dict) and list(stream) == ["Fn::GetAtt"]
            and stream["Fn::GetAtt"][1] == "StreamArn"):
        raise ValueError(f"{function}: expected a table's StreamArn, got {stream!r}")
    table = stream["Fn::GetAtt"][0]
    if "StreamSpecification" not in resources.get(table, {}).get("Properties", {}):
        raise ValueError(f"{function}: {table} has no stream (StreamSpecification)")
    return stream


def _streams(template: Template, stage: Stage) -> None:
    resources = template["Resources"]
    failures = {"Fn::GetAtt": [FAILURES, "Arn"]}
    for name, event_name, stream in stream_sources(template):
        props = resources[name]["Properties"]["Events"][event_name]["Properties"]
        props["Stream"] = _stream_of(template, stage, name, stream)
        # Every stream handler answers through streams.dispatch: Lambda's partial batch
        # response, so one failed record is retried without the ones before it.
        props["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        props.setdefault("BisectBatchOnFunctionError", True)
        props.setdefault("MaximumRetryAttempts", 5)
        props.setdefault("MaximumRecordAgeInSeconds", 3600)
        # The policy lets the functions send to this queue only.
        destination = props.setdefault("DestinationConfig", {"OnFailure": {
            "Destination": failures}})
        if destination != {"OnFailure": {"Destination": failures}}:
            raise ValueError(f"{name}: failed stream batches go to {FAILURES}, not "
                             f"{destination!r}")
        resources[f"{name}IteratorAgeAlarm"] = _alarm(
            f"{_kebab(name)}-iterator-age",
            f"{name} is over a minute behind its stream.", "AWS/Lambda", "IteratorAge",
            [{"Name": "FunctionName", "Value": {"Ref": name}}], statistic="Maximum",
            threshold=60000, comparison="GreaterThanThreshold")


def _websockets(template: Template, stage: Stage) -> None:
    """The websocket API's management endpoint in every function's environment, as the
    stage policy is every function's: the message handler posts its answers and replays,
    the journal stream's handler its fan-out, and whichever function posts next needs no
    fragment of its own. Named through the `ApiStage` parameter, not a reference to the
    stage resource: the stage depends on the deployment, the deployment on the routes,
    the routes on the functions, so a function referring to the stage would be a
    circular dependency (chalice names its websocket stage after api_gateway_stage,
    which `ApiStage` is pinned to; checked here)."""
    resources = template["Resources"]
    if WEBSOCKET_API not in resources:
        return
    stage_name = resources.get(f"{WEBSOCKET_API}Stage", {}).get("Properties", {}).get(
        "StageName")
    if stage_name != stage.api_stage:
        raise ValueError(f"{WEBSOCKET_API}Stage is {stage_name!r}, expected the stage's "
                         f"api_gateway_stage {stage.api_stage!r}")
    endpoint = {"Fn::Sub": "https://${%s}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
                           "${ApiStage}" % WEBSOCKET_API}
    for name in functions(template):
        variables = resources[name]["Properties"].setdefault("Environment", {}).setdefault(
            "Variables", {})
        variables["WEBSOCKET_ENDPOINT"] = endpoint


INBOUND_FUNCTION = "SesInbound"  # app.py's `ses_inbound`


def _inbound_mail(template: Template) -> None:
    """SES receives mail: a receipt rule stores it under the bucket's inbound prefix, then
    invokes the delivery function asynchronously (Lambda retries it twice; what still
    fails goes to the failed-invocations queue). The rule set must be made the active
    one once per account and region (`aws ses set-active-receipt-rule-set`), which
    CloudFormation cannot do; the rule has no recipient list, so it takes mail for every
    domain verified for receiving in that region."""
    resources = template["Resources"]
    if INBOUND_FUNCTION not in resources:
        return
    props = resources[INBOUND_FUNCTION]["Properties"]
    props["EventInvokeConfig"] = {
        "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600,
        "DestinationConfig": {"OnFailure": {
            "Type": "SQS", "Destination": {"Fn::GetAtt": [FAILURES, "Arn"]}}}}
    rule_set = {"Fn::Sub": "wildduck-${Stage}-inbound"}
    resources["InboundRuleSet"] = {"Type": "AWS::SES::ReceiptRuleSet",
                                   "Properties": {"RuleSetName": rule_set}}
    resources["InboundInvokePermission"] = {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": INBOUND_FUNCTION},
        "Principal": "ses.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"}}}
    resources["InboundRule"] = {
        "Type": "AWS::SES::ReceiptRule",
        "DependsOn": ["InboundInvokePermission", "MailBucketPolicy"],
        "Properties": {"RuleSetName": {"Ref": "InboundRuleSet"}, "Rule": {
            "Name": {"Fn::Sub": "wildduck-${Stage}-deliver"}, "Enabled": True,
            "ScanEnabled": True, "TlsPolicy": "Optional",
            "Actions": [
                {"S3Action": {"BucketName": {"Ref": BUCKET},
                              "ObjectKeyPrefix": INBOUND_PREFIX}},
                {"LambdaAction": {"FunctionArn": {"Fn::GetAtt": [INBOUND_FUNCTION, "Arn"]},
                                  "InvocationType": "Event"}}]}}}
    statements = resources["MailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    statements.append({
        "Sid": "SesPutsInboundMail", "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": {"Fn::Sub": "${%s.Arn}/%s*" % (BUCKET, INBOUND_PREFIX)},
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                      "ArnLike": {"aws:SourceArn": {"Fn::Sub":
                                  "arn:${AWS::Partition}:ses:${AWS::Region}:"
                                  "${AWS::AccountId}:receipt-rule-set/wildduck-${Stage}"
                                  "-inbound:receipt-rule/*"}}}})
    rules = resources[BUCKET]["Properties"]["LifecycleConfiguration"]["Rules"]
    rules.append({"Id": "delivered-inbound", "Status": "Enabled",
                  "Prefix": INBOUND_PREFIX, "ExpirationInDays": 7})


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
    _streams(result, stage)
    _websockets(result, stage)
    _inbound_mail(result)
    _retain_state(result)
    _table_alarms(result)
    _roles(result, stage)
    return result
