"""The deployment template's part of the updates channel (infra/tables.yaml), checked
against the names `chalice package` gives the app's functions and event source (a real
package run takes too long for the suite; `chalice package --merge-template` was run to
see these names)."""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from chalice.package import to_cfn_resource_name

ROOT = Path(__file__).resolve().parents[2]


def test_the_stream_mapping_and_permissions_are_merged_into_the_package(app):
    resources = yaml.safe_load((ROOT / "infra" / "tables.yaml").read_text())["Resources"]
    (source,) = [s for s in app.event_sources if s.name == "journal_stream"]
    function = to_cfn_resource_name(source.name)
    mapping = resources[function]["Properties"]["Events"][
        f"{function}DynamodbEventSource"]["Properties"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["JournalTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert resources[destination["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"
    for name in (function, "WebsocketMessage"):
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert "WEBSOCKET_ENDPOINT" in variables
    policy = resources["RealtimePolicy"]["Properties"]
    assert {"Ref": f"{function}Role"} in policy["Roles"]
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert {"execute-api:ManageConnections", "sqs:SendMessage",
            "dynamodb:GetRecords"} <= actions
    connections = resources["ConnectionsTable"]["Properties"]["GlobalSecondaryIndexes"][0]
    assert connections["Projection"] == {"ProjectionType": "ALL"}  # fan-out reads `since`


def test_the_function_policy_lets_handlers_post_and_read_streams():
    policy = json.loads((ROOT / ".chalice" / "policy.json").read_text())
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"execute-api:ManageConnections", "dynamodb:GetRecords",
            "dynamodb:GetShardIterator", "dynamodb:DescribeStream"} <= actions
