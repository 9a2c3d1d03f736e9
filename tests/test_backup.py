"""JSON exports are published whole or not at all."""

from __future__ import annotations

import json

from glp_pipeline.backup import JsonArrayWriter


def test_commit_publishes_a_json_array(tmp_path):
    target = tmp_path / "out" / "devices.json"
    writer = JsonArrayWriter(target)
    writer.write_many([{"id": "a", "name": "Zürich"}, {"id": "b"}])
    writer.write_many([{"id": "c"}])
    writer.commit()
    assert json.loads(target.read_text()) == [{"id": "a", "name": "Zürich"}, {"id": "b"}, {"id": "c"}]
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_abort_leaves_the_previous_file_untouched(tmp_path):
    target = tmp_path / "devices.json"
    target.write_text('[{"id": "old"}]')
    writer = JsonArrayWriter(target)
    writer.write_many([{"id": "new"}])
    writer.abort()
    assert json.loads(target.read_text()) == [{"id": "old"}]
    assert list(tmp_path.iterdir()) == [target]


def test_restart_drops_an_abandoned_pass(tmp_path):
    target = tmp_path / "devices.json"
    writer = JsonArrayWriter(target)
    writer.write_many([{"id": "a"}, {"id": "b"}])
    writer.restart(1)
    writer.write_many([{"id": "a"}, {"id": "c"}])
    writer.commit()
    assert [d["id"] for d in json.loads(target.read_text())] == ["a", "c"]


def test_empty_export_is_an_empty_array(tmp_path):
    target = tmp_path / "subscriptions.json"
    JsonArrayWriter(target).commit()
    assert json.loads(target.read_text()) == []
