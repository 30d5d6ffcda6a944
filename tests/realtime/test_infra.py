"""The deployment template's part of the updates channel, checked on the packaged prod
template (built once per source tree and shared with tests/infra) against the names the
app's handlers have: the journal stream's event source, the websocket endpoint, and the
grants the handlers post and read the stream with. The rules that produce them are
infra/production.py's and infra/policy.py's (docs/operations.md, "Adding resources");
tests/infra checks them in detail and proves the grants against recorded calls."""
from __future__ import annotations

import yaml
from chalice.package import to_cfn_resource_name

from infra.stages import ROOT
from tests.infra.packaged import packaged_template


def _journal_handler(app) -> tuple[str, object]:
    (source,) = [s for s in app.event_sources if s.name == "journal_stream"]
    return to_cfn_resource_name(source.name), source


def test_the_stream_mapping_reads_the_journal_with_partial_batch_failures(app):
    resources = packaged_template("prod")["Resources"]
    function, source = _journal_handler(app)
    mapping = resources[function]["Properties"]["Events"][
        f"{function}DynamodbEventSource"]["Properties"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["JournalTable", "StreamArn"]}
    assert (mapping["StartingPosition"], mapping["BatchSize"]) == (
        source.starting_position, source.batch_size)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert resources[destination["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"
    for name in (function, "WebsocketMessage"):
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert "WEBSOCKET_ENDPOINT" in variables
    connections = resources["ConnectionsTable"]["Properties"]["GlobalSecondaryIndexes"][0]
    assert connections["Projection"] == {"ProjectionType": "ALL"}  # fan-out reads `since`


def test_the_handlers_may_post_to_connections_and_read_the_journal_stream(app):
    resources = packaged_template("prod")["Resources"]
    function, _ = _journal_handler(app)
    for name in (function, "WebsocketMessage"):
        role = resources[name]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"]
        grants = {(action, str(resource)) for s in statements for action in s["Action"]
                  for resource in s["Resource"]}
        assert ("execute-api:ManageConnections", str({"Fn::Sub": (
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${WebsocketAPI}/${ApiStage}/POST/@connections/*")})) in grants
        for action in ("dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:DescribeStream"):
            assert (action, str({"Fn::GetAtt": ["JournalTable", "StreamArn"]})) in grants


def test_the_data_layer_template_holds_tables_not_function_settings():
    """infra/tables.yaml is also what the local stack and the tests build their tables
    from: the handlers' settings and grants are rules of the packaging, not fragments."""
    resources = yaml.safe_load((ROOT / "infra" / "tables.yaml").read_text())["Resources"]
    assert resources["JournalTable"]["Properties"]["StreamSpecification"] == {
        "StreamViewType": "NEW_IMAGE"}
    kinds = {resource.get("Type") for resource in resources.values()}
    assert kinds <= {"AWS::DynamoDB::Table", "AWS::S3::Bucket", None}
    assert [name for name, r in resources.items() if r.get("Type") is None] == ["RestAPI"]
