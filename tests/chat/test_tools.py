"""The chat's tool registry: the MCP server's own tools, called in process, on a real PostgreSQL loaded from
the simulator; results bounded for the model, failures as error results."""

from __future__ import annotations

import json
import re
from collections import Counter

import anyio
import pytest

from glp_pipeline.chat import ToolCall, ToolRegistry
from glp_pipeline.chat.tools import bounded_json
from glp_pipeline.settings import get_settings
from mcp_server.server import build_server

BY_TYPE = (
    "select device_type, count(*) as devices from marts.devices where not is_removed "
    "group by device_type order by device_type"
)
ALL_DEVICES = "select serial_number, device_type, model from marts.devices order by serial_number"


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


@pytest.fixture
def registry(db, monkeypatch, tmp_path) -> ToolRegistry:
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    return ToolRegistry()


def _call(registry: ToolRegistry, name: str, **arguments):
    return registry.call(ToolCall(f"call-{name}", name, arguments))


def test_the_tools_are_the_mcp_servers_own_but_ask_database(registry):
    served = anyio.run(build_server().list_tools)
    expected = [(t.name, t.description, t.input_schema) for t in served if t.name != "ask_database"]
    assert [(s.name, s.description, s.input_schema) for s in registry.specs] == expected
    assert "run_query" in registry.names and "inventory_overview" in registry.names
    assert "ask_database" not in registry.names and len(registry.specs) == len(served) - 1


def test_a_call_returns_the_servers_structured_result_and_json_for_the_model(registry, db):
    outcome = _call(registry, "inventory_overview")
    assert outcome.is_error is False and outcome.truncated is False and outcome.sql is None
    assert outcome.result["devices"]["total"] == len(db.sim.devices())
    assert json.loads(outcome.content) == outcome.result
    assert 0 < outcome.elapsed_ms < 10_000
    assert outcome.to_result().tool_call_id == "call-inventory_overview" and not outcome.to_result().is_error
    assert json.loads(json.dumps(outcome.to_dict()))["result"] == outcome.result

    # Arguments go through as an MCP client's would.
    outcome = _call(registry, "search_devices", device_type="SWITCH", page_size=100)
    switches = {d["id"] for d in db.sim.devices() if d["deviceType"] == "SWITCH"}
    assert {item["device_id"] for item in outcome.result["items"]} == switches
    assert outcome.result["total"] == len(switches)


def test_run_query_shows_its_sql_and_reads_the_real_rows(registry, db):
    assert registry.sql_for("run_query", {"sql": BY_TYPE}) == BY_TYPE
    assert registry.sql_for("inventory_overview", {"sql": "x"}) is None
    outcome = _call(registry, "run_query", sql=BY_TYPE)
    assert outcome.is_error is False and outcome.sql == BY_TYPE == outcome.result["sql"]
    by_type = Counter(d["deviceType"] for d in db.sim.devices())
    assert {r["device_type"]: r["devices"] for r in outcome.result["rows"]} == by_type


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("run_query", {"sql": "delete from marts.devices"}, "is not allowed|cannot run here"),
        (
            "run_query",
            {"sql": "select colour from reporting.active_devices"},
            'column "colour" does not exist',
        ),
        ("run_query", {}, "sql\n +Field required"),  # the server's validation
        ("search_devices", {"page_size": 1000}, "page_size\n +Input should be less than or equal to 100"),
        ("ask_database", {"question": "How many?"}, "There is no tool 'ask_database'"),
        ("drop_everything", {}, "The tools are: inventory_overview"),
    ],
)
def test_failures_are_error_results_the_model_can_read(registry, db, name, arguments, says):
    outcome = _call(registry, name, **arguments)
    assert outcome.is_error is True and outcome.result is None
    assert re.search(says, outcome.content), outcome.content
    assert outcome.to_result().is_error is True and outcome.to_dict()["error"] == outcome.content
    if name == "run_query" and "sql" in arguments:
        assert outcome.sql == arguments["sql"], "the SQL is shown even when it was refused"
    assert len(db.sim.devices()) == _call(registry, "inventory_overview").result["devices"]["total"]


def test_arguments_that_were_not_json_are_not_run(registry):
    outcome = registry.call(ToolCall("c1", "run_query", {}, invalid_arguments='{"sql": "select'))
    assert (
        outcome.is_error is True
        and "not a JSON object" in outcome.content
        and '{"sql": "select' in outcome.content
    )


def test_a_long_result_is_cut_for_the_model_with_a_note_but_kept_whole_for_the_ui(db, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db.url)
    get_settings.cache_clear()
    registry = ToolRegistry(max_result_chars=3_000)
    outcome = _call(registry, "run_query", sql=ALL_DEVICES, max_rows=1000)
    devices = len(db.sim.devices())
    assert outcome.is_error is False and len(outcome.result["rows"]) == outcome.result["row_count"] == devices
    assert outcome.truncated is True and len(outcome.content) <= 3_000
    shown = json.loads(outcome.content)
    kept = len(shown["rows"])
    assert 0 < kept < devices and shown["rows"] == outcome.result["rows"][:kept]
    assert f"Only the first {kept} of the {devices} rows are shown" in shown["_note"]
    assert shown["sql"] == ALL_DEVICES and shown["row_count"] == devices, "the rest of the object is kept"


def test_bounded_json_cuts_what_has_no_list_to_shorten():
    text, cut = bounded_json({"answer": "x" * 500}, 200)
    assert cut is True and len(text) <= 200 and "[cut: the result has" in text
    assert bounded_json({"a": [1, 2]}, 200) == ('{"a":[1,2]}', False)


def test_a_database_that_is_down_is_an_error_result(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://glp:s3cret-pw@127.0.0.1:9/glp")
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    registry = ToolRegistry()
    assert registry.specs, "the tools are listed while the database is down"
    outcome = _call(registry, "inventory_overview")
    assert outcome.is_error is True and "s3cret-pw" not in outcome.content
    assert "database" in outcome.content.lower() or "PostgreSQL" in outcome.content
    assert registry.schema_text() is None


def test_the_schema_for_the_prompt_comes_from_the_servers_resources(registry):
    text = registry.schema_text()
    assert "reporting.device_summary (table)" in text and "marts.devices" in text
    assert "Values of categorical columns:" in text and "SWITCH" in text
