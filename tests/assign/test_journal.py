"""The assignment journal on a real PostgreSQL: runs and operations survive the process, and undo inverts."""

from __future__ import annotations

import psycopg

from glp_pipeline.assign import journal as j
from glp_pipeline.assign import plan as p
from glp_pipeline.assign.plan import Change

APP = {"application_id": "app-1", "region": "us-west"}
OLD_APP = {"application_id": "app-0", "region": "eu-west"}
SUB = {"id": "sub-new", "key": "NEW"}
OLD_SUB = [{"id": "sub-old", "key": "OLD"}]
NEW_DEVICE = {"kind": "NETWORK", "serialNumber": "NEW1", "macAddress": "AA:BB:CC:DD:EE:FF"}

CHANGES = [
    Change(p.ADD, "NEW1", None, None, NEW_DEVICE, 2),
    Change(p.APPLICATION, "SN1", "id-1", OLD_APP, APP, 3),
    Change(p.APPLICATION, "SN2", "id-2", None, APP, 4),
    Change(p.SUBSCRIPTION, "SN1", "id-1", OLD_SUB, SUB, 3),
    Change(p.SUBSCRIPTION, "SN2", "id-2", None, SUB, 4),
    Change(p.TAGS, "SN1", "id-1", {"site": "hq", "new": None}, {"site": "lab", "new": "1"}, 3),
    Change(p.ARCHIVE, "SN3", "id-3", False, True, 5),
    Change(p.APPLICATION, "NEW1", None, None, APP, 2),
]  # fmt: skip


def test_a_run_is_journalled_before_it_starts_and_counted_when_it_ends(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        run_id = j.create_run(conn, CHANGES, requested_by="ana", source_name="q4.xlsx", source_sha256="ab")
        assert [r["run_id"] for r in j.unfinished_runs(conn)] == [run_id]
        assert {o.status for o in j.operations(conn, run_id)} == {j.PENDING}

        j.mark_submitted(conn, run_id, [1, 2], "op-123")
        j.mark_outcome(conn, run_id, 1, j.SUCCEEDED)
        j.mark_outcome(conn, run_id, 2, j.FAILED, error_code="HPE_GL_ERROR_NOT_FOUND", error_message="gone")
        j.set_device_ids(conn, run_id, {"NEW1": "id-new"})
        run = j.finish_run(conn, run_id, j.INTERRUPTED)

    with psycopg.connect(database_url, autocommit=True) as conn:  # a new process would see the same
        ops = j.operations(conn, run_id)
        assert j.run(conn, run_id)["status"] == j.INTERRUPTED
        assert j.unfinished_runs(conn) == []
    assert (run["succeeded"], run["failed"], run["requested_by"]) == (1, 1, "ana")
    assert [o.change for o in ops] == [
        c
        if c.serial_number != "NEW1"
        else Change(c.kind, c.serial_number, "id-new", c.before, c.after, c.row)
        for c in CHANGES
    ], "changes round-trip, with the added device's id filled in"
    assert (ops[1].operation_id, ops[2].error_code) == ("op-123", "HPE_GL_ERROR_NOT_FOUND")


def test_undo_inverts_each_succeeded_operation_and_says_what_cannot_be_undone():
    journalled = [j.JournalledChange(n, c, j.SUCCEEDED, "op", None, None) for n, c in enumerate(CHANGES)]
    journalled[4] = j.JournalledChange(4, CHANGES[4], j.FAILED, "op", "X", "no")  # failed: nothing to undo
    undo, notes = j.inverse_changes(journalled)
    assert [(c.kind, c.serial_number, c.before, c.after) for c in undo] == [
        (p.APPLICATION, "SN1", APP, OLD_APP),
        (p.UNASSIGN, "SN2", APP, None),
        (p.SUBSCRIPTION, "SN1", [SUB], OLD_SUB[0]),
        (p.TAGS, "SN1", {"site": "lab", "new": "1"}, {"site": "hq", "new": None}),
        (p.UNARCHIVE, "SN3", True, False),
        (p.UNASSIGN, "NEW1", APP, None),
    ]
    assert len(notes) == 1 and "NEW1" in notes[0] and "cannot remove" in notes[0]
