"""Write-back against the sandbox over real sockets, on SQLite and PostgreSQL: batches, every conflict policy on a
real 409, manual conflicts resolved both ways, a 412 and its save option, lost answers that must not apply a
change twice, and audit entries for every write."""

from __future__ import annotations

import pytest

from rm_pipelines.flows import writeback as W
from rm_pipelines.warehouse import ops, outbox

ISSUE = "ServiceManagerIssues"


def _issue(wb, n=0):
    return wb.sandbox.store.records(ISSUE)[n]


def _theirs(wb, issue_id, **changes):
    """Someone changes the work order in Rent Manager (UpdateDate moves)."""
    def edit(rec):
        rec.update(changes)
    wb.sandbox.store.touch(ISSUE, [issue_id], edit)


def _audit(wb, action=None):
    rows = ops.audit_rows(wb.engine, "acme", f"rentmanager.{ISSUE}")
    return [r for r in rows if action is None or r["action"] == action]


def test_a_batch_is_posted_re_read_landed_and_audited(wb):
    org = wb.org()
    issues = wb.sandbox.store.records(ISSUE)[:25]
    for i in issues:
        W.enqueue(wb.engine, org, resource=ISSUE, rm_key=i["ServiceManagerIssueID"],
                  fields={"Description": f"triaged #{i['ServiceManagerIssueID']}"}, reason="triage", requested_by="pat")
    wb.sandbox.stats.reset()
    report = wb.post(org)
    assert (report.rows, report.done, report.failed, report.conflicts) == (25, 25, 0, 0)
    assert report.batches == 3 and report.requests == 6  # three POST arrays, three re-reads by key
    assert report.requests_per_record == 0.24
    assert wb.sandbox.stats.by_path["/ServiceManagerIssues"] == 6
    for i in issues:
        assert wb.sandbox.store.get(ISSUE, i["ServiceManagerIssueID"])["Description"] == \
            f"triaged #{i['ServiceManagerIssueID']}"
    assert {r.status for r in outbox.rows(wb.engine, "acme")} == {"done"}
    writes = _audit(wb, "write")
    assert len(writes) == 25 and writes[0]["changed"]["Description"][1].startswith("triaged")
    # re-read and landed: rm_raw holds what Rent Manager holds now
    landed = wb.sandbox.store.get(ISSUE, issues[0]["ServiceManagerIssueID"])
    from rm_pipelines.rentmanager.catalog import get
    from rm_pipelines.warehouse.raw import RawLander

    [raw] = RawLander(wb.engine, org_id="acme", run_id=None).payloads(get("service_manager_issues"), 1,
                                                                       keys=[landed["ServiceManagerIssueID"]])
    assert raw["Description"] == landed["Description"] and raw["UpdateDate"] == landed["UpdateDate"]
    # nothing left to post, and a change to what Rent Manager already holds is not enqueued
    assert wb.post(org).rows == 0
    assert W.enqueue(wb.engine, org, resource=ISSUE, rm_key=issues[0]["ServiceManagerIssueID"],
                     fields={"Description": landed["Description"]}, reason="again", requested_by="pat") is None


def test_changes_to_one_record_merge_and_a_superseded_change_is_never_written(wb):
    org = wb.org()
    issue = _issue(wb, 5)
    key = issue["ServiceManagerIssueID"]
    first = W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Title": "A"}, reason="r1", requested_by="p")
    second = W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Description": "B"}, reason="r2",
                       requested_by="p")
    assert first == second
    row = outbox.get(wb.engine, first)
    assert row.fields == {"Title": "A", "Description": "B"} and row.reason == "r1; r2"
    # EstateCore changes its mind back to what Rent Manager holds before anything was posted
    W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Title": issue["Title"]}, reason="r3",
              requested_by="p")
    assert outbox.get(wb.engine, first).fields == {"Description": "B"}
    W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Description": issue["Description"]}, reason="r4",
              requested_by="p")
    row = outbox.get(wb.engine, first)
    assert row.status == "done" and "superseded" in row.reason
    assert wb.post(org).rows == 0 and wb.sandbox.store.get(ISSUE, key)["Title"] == issue["Title"]


@pytest.mark.parametrize("policy, their_change_first, winner", [
    ("rm_wins", False, "theirs"),
    ("estatecore_wins", False, "ours"),
    ("newest_wins", False, "theirs"),  # their change came after ours was requested
    ("newest_wins", True, "ours"),     # ours was requested after their change
])
def test_every_policy_decides_a_real_409(wb, policy, their_change_first, winner):
    org = wb.org(fields={f"{ISSUE}.Title": policy})
    issue = _issue(wb)
    key = issue["ServiceManagerIssueID"]
    if their_change_first:
        _theirs(wb, key, Title="theirs")
    row_id = W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Title": "ours"}, reason="r",
                       requested_by="pat")
    if not their_change_first:
        _theirs(wb, key, Title="theirs")
    report = wb.post(org)
    assert wb.sandbox.store.get(ISSUE, key)["Title"] == winner
    row = outbox.get(wb.engine, row_id)
    assert row.status == "done" and report.done == 1
    assert outbox.conflict_rows(wb.engine, "acme") == []
    if winner == "ours":
        assert report.retried_after_409 == 1
        assert _audit(wb, "override")[0]["changed"]["Title"]["policy"] == policy
        assert _audit(wb, "write")[0]["changed"]["Title"] == ["theirs", "ours"]  # written over their value
    else:
        assert report.kept_theirs == 1
        assert _audit(wb, "kept")[0]["changed"]["Title"] == {"ours": "ours", "theirs": "theirs", "policy": policy}
        assert _audit(wb, "write") == []


def test_a_409_on_another_field_merges_and_retries_without_a_conflict(wb):
    org = wb.org()  # manual everywhere: only a field both sides changed would stop it
    key = _issue(wb, 1)["ServiceManagerIssueID"]
    W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Title": "ours"}, reason="r", requested_by="pat")
    _theirs(wb, key, Description="theirs")
    report = wb.post(org)
    after = wb.sandbox.store.get(ISSUE, key)
    assert (after["Title"], after["Description"]) == ("ours", "theirs")
    assert report.done == 1 and report.retried_after_409 == 1 and outbox.conflict_rows(wb.engine, "acme") == []


@pytest.mark.parametrize("take", ["ours", "theirs"])
def test_a_manual_conflict_waits_for_a_person_and_is_resolved_either_way(wb, take):
    org = wb.org()
    key = _issue(wb, 2)["ServiceManagerIssueID"]
    row_id = W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Title": "ours", "Description": "ours too"},
                       reason="r", requested_by="pat")
    base_title = _issue(wb, 2)["Title"]
    _theirs(wb, key, Title="theirs")
    report = wb.post(org)
    # the field only EstateCore changed is written; the one both changed waits
    assert wb.sandbox.store.get(ISSUE, key)["Description"] == "ours too"
    assert wb.sandbox.store.get(ISSUE, key)["Title"] == "theirs"
    assert outbox.get(wb.engine, row_id).status == "conflict" and report.conflicts == 1
    [conflict] = outbox.conflict_rows(wb.engine, "acme")
    assert (conflict["field"], conflict["base"], conflict["ours"], conflict["theirs"]) == \
        ("Title", base_title, "ours", "theirs")
    resolved = W.resolve_conflict(wb.engine, org, conflict["id"], take=take, by="dana")
    assert resolved["status"] == take
    with pytest.raises(W.WritebackError, match="already resolved"):
        W.resolve_conflict(wb.engine, org, conflict["id"], take=take, by="dana")
    if take == "ours":
        assert resolved["outbox_status"] == "pending"
        second = wb.post(org, run_id="wb-2")
        assert second.done == 1
        assert wb.sandbox.store.get(ISSUE, key)["Title"] == "ours"
    else:
        assert resolved["outbox_status"] == "done"
        assert wb.post(org, run_id="wb-2").rows == 0
        assert wb.sandbox.store.get(ISSUE, key)["Title"] == "theirs"
    assert outbox.get(wb.engine, row_id).status == "done"
    assert [a["changed"]["Title"]["take"] for a in ops.audit_rows(wb.engine, "acme", f"rentmanager.{ISSUE}")
            if a["action"] == "resolved"] == [take]


def test_a_412_names_the_save_option_and_a_retry_with_it_succeeds(wb):
    org = wb.org()
    violation = wb.sandbox.store.records("Violations")[0]
    wb.sandbox.config.hard_close_date = violation["ViolationDate"][:10]
    row_id = W.enqueue_violation_note(wb.engine, org, violation["ViolationID"], "Fence repaired; inspected",
                                      requested_by="board")
    report = wb.post(org)
    row = outbox.get(wb.engine, row_id)
    assert row.status == "failed" and report.failed == 1
    assert "IgnoreHardClose" in row.last_error and f"writeback retry {row_id} --save-option IgnoreHardClose" in \
        row.last_error
    assert wb.sandbox.store.get("Violations", violation["ViolationID"])["ResolveAction"] != "Fence repaired; inspected"
    W.retry(wb.engine, org, row_id, save_options=["IgnoreHardClose"])
    assert wb.post(org, run_id="wb-2").done == 1
    assert wb.sandbox.store.get("Violations", violation["ViolationID"])["ResolveAction"] == "Fence repaired; inspected"
    assert outbox.get(wb.engine, row_id).save_options == ["IgnoreHardClose"]


@pytest.mark.parametrize("fault, applied", [("drop_next", True), ("error_5xx_next", False)])
def test_a_lost_answer_is_looked_at_and_never_applied_twice(wb, fault, applied):
    org = wb.org()
    violation = wb.sandbox.store.records("Violations")[1]
    key, before = violation["ViolationID"], violation["ConcurrencyID"]
    row_id = W.enqueue_violation_note(wb.engine, org, key, "Letter sent", requested_by="board")
    edits = []
    wb.sandbox.store.add_listener(lambda changes: edits.extend(c for c in changes if c.collection == "Violations"))
    setattr(wb.sandbox.faults, fault, 1)  # the POST's answer is lost (applied) / fails before it is applied
    report = wb.post(org)
    assert report.lost_answers == 1 and report.done == 1
    after = wb.sandbox.store.get("Violations", key)
    assert after["ResolveAction"] == "Letter sent"
    assert after["ConcurrencyID"] == before + 1 and len(edits) == 1  # applied exactly once
    note = [a["changed"].get("note") for a in ops.audit_rows(wb.engine, "acme", "rentmanager.Violations")
            if a["action"] == "write"]
    assert note == (["applied; its answer was lost"] if applied else [None])
    assert report.retried_after_409 == (0 if applied else 1)
    assert outbox.get(wb.engine, row_id).status == "done"


def test_a_write_that_timed_out_is_looked_at_later_and_applied_once(wb):
    org = wb.org()
    org = org.model_copy(update={"rentmanager": org.rentmanager.model_copy(update={"timeout_seconds": 0.5})})
    violation = wb.sandbox.store.records("Violations")[0]
    key, before = violation["ViolationID"], violation["ConcurrencyID"]
    row_id = W.enqueue_violation_note(wb.engine, org, key, "Second letter sent", requested_by="board")
    edits = []
    wb.sandbox.store.add_listener(lambda changes: edits.extend(c for c in changes if c.collection == "Violations"))
    wb.sandbox.faults.latency_seconds = 1.0  # Rent Manager answers after the client gave up
    report = wb.post(org)
    assert report.lost_answers == 1 and report.done == 0 and report.errors  # the re-read timed out as well
    assert outbox.get(wb.engine, row_id).status == "sent"  # applied or not: unknown, so never re-sent blindly
    wb.sandbox.faults.reset()
    later = wb.post(org, run_id="wb-2")  # looks first: confirms it, or sends it again if it never arrived
    assert later.done == 1 and later.lost_answers == 0
    after = wb.sandbox.store.get("Violations", key)
    assert after["ResolveAction"] == "Second letter sent" and after["ConcurrencyID"] == before + 1
    assert len(edits) == 1  # applied exactly once
    assert outbox.get(wb.engine, row_id).status == "done"


def test_work_order_status_by_name(wb):
    org = wb.org()
    statuses = wb.sandbox.store.records("ServiceManagerStatuses")
    closed = next(s for s in statuses if s.get("IsClosed"))
    key = next(i for i in wb.sandbox.store.records(ISSUE) if i["StatusID"] != closed["ServiceManagerStatusID"])[
        "ServiceManagerIssueID"]
    W.enqueue_work_order_status(wb.engine, org, key, closed["Name"].upper(), requested_by="tech")
    assert wb.post(org).done == 1
    after = wb.sandbox.store.get(ISSUE, key)
    assert after["StatusID"] == closed["ServiceManagerStatusID"] and after["IsClosed"] is True
    with pytest.raises(W.WritebackError, match="is not a Rent Manager status of org 'acme'"):
        W.enqueue_work_order_status(wb.engine, org, key, "Teleported", requested_by="tech")


def test_nothing_is_enqueued_for_an_org_without_writeback_or_a_record_never_synced(wb):
    with pytest.raises(W.WritebackError, match="has no `writeback:` section"):
        W.enqueue(wb.engine, wb.registry.get("acme").model_copy(update={"writeback": None}), resource=ISSUE,
                  rm_key=1, fields={"Title": "x"}, reason="r", requested_by="pat")
    with pytest.raises(W.WritebackError, match="sync it first"):
        W.enqueue(wb.engine, wb.org(), resource=ISSUE, rm_key=987654, fields={"Title": "x"}, reason="r",
                  requested_by="pat")
    with pytest.raises(W.WritebackError, match="has no field"):
        W.enqueue(wb.engine, wb.org(), resource=ISSUE, rm_key=_issue(wb)["ServiceManagerIssueID"],
                  fields={"Nonsense": "x"}, reason="r", requested_by="pat")


@pytest.mark.slow
def test_compliance_results_land_in_rent_manager_udfs_and_come_back(wb):
    from sqlalchemy import select

    from rm_pipelines.flows.evaluate import evaluate_org
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.orgs import ComplianceConfig
    from rm_pipelines.rentmanager.catalog import ENTITIES
    from rm_pipelines.warehouse import compliance_store
    from rm_pipelines.warehouse.models import table
    from rm_pipelines_tests.conftest import SANDBOX_AS_OF

    org = wb.org().model_copy(update={"compliance": ComplianceConfig(backfill_earliest_limits=True)})
    wb.sync(org, [e.name for e in ENTITIES])
    load_all(wb.engine, org=org, run_id="load-1")
    evaluate_org(wb.engine, org, as_of=SANDBOX_AS_OF, run_id="eval-1")
    queued = W.enqueue_compliance_udfs(wb.engine, org)
    assert queued.households > 0 and queued.enqueued > 0
    assert queued.by_status.get("Out of compliance", 0) > 0  # the sandbox's planted findings
    assert queued.by_status.get("In compliance", 0) > 0

    report = wb.post(org, load=True)
    assert report.failed == 0 and report.done == queued.enqueued
    assert "tenant_udfs" in report.landed and "udf_values" in report.tables_loaded  # residents follow udf_values

    households = compliance_store.read_snapshot(wb.engine, "household_status", "acme", SANDBOX_AS_OF)
    leases, residents, udfs = table("leases"), table("residents"), table("udf_values")
    with wb.engine.connect() as conn:
        tenant_of = dict(conn.execute(select(leases.c.rm_id, leases.c.resident_rm_id)).all())
        due_in_estatecore = dict(conn.execute(select(residents.c.rm_id, residents.c.next_recertification_due)).all())
        status_in_estatecore = dict(conn.execute(select(udfs.c.parent_rm_id, udfs.c.value).where(
            udfs.c.parent_type == "Tenant", udfs.c.name == "Compliance Status", udfs.c.deleted_at.is_(None))).all())
    store = wb.sandbox.store
    checked = 0
    for h in households:
        tenant = tenant_of[int(h["household_id"].rsplit(":L", 1)[1])]
        in_rm = {v["Name"]: v["Value"] for v in store.records("UserDefinedValues")
                 if v["ParentType"] == "Tenant" and v["ParentID"] == tenant}
        assert in_rm["Next Recertification Due"] == h["next_recert_due"].isoformat()  # written to Rent Manager
        assert in_rm["Compliance Status"] in ("In compliance", "Out of compliance", "Undetermined")
        assert due_in_estatecore[tenant] == h["next_recert_due"]  # and back in EstateCore
        assert status_in_estatecore[tenant] == in_rm["Compliance Status"]
        checked += 1
    assert checked == len(households) > 0
    # evaluated again with nothing changed: nothing to write
    assert W.enqueue_compliance_udfs(wb.engine, org).enqueued == 0


def test_the_command_line_enqueues_lists_posts_and_resolves(wb, capsys, monkeypatch):
    from rm_pipelines.cli import main as cli

    url = wb.engine.url.render_as_string(hide_password=False)
    orgs_file = str(wb.resource.orgs_file)
    common = ["--org", "acme", "--orgs", orgs_file, "--url", url]
    key = _issue(wb, 3)["ServiceManagerIssueID"]
    assert cli(["writeback", "enqueue", *common, "--resource", ISSUE, "--key", str(key), "--set", "Title=ours",
                "--reason", "tenant called", "--by", "pat"]) == 0
    assert "outbox #1 pending" in capsys.readouterr().out
    assert cli(["writeback", "enqueue", *common, "--resource", ISSUE, "--key", str(key), "--set", "Nope=1"]) == 2
    assert "has no field(s) Nope" in capsys.readouterr().err
    _theirs(wb, key, Title="theirs")
    assert cli(["writeback", "post", *common]) == 0
    assert '"conflicts": 1' in capsys.readouterr().out
    assert cli(["writeback", "list", *common]) == 0
    listed = capsys.readouterr().out
    assert "conflict 1" in listed and f"{ISSUE} {key}" in listed and "pat: tenant called" in listed
    assert cli(["conflicts", "list", *common]) == 0
    listed = capsys.readouterr().out
    assert "Title" in listed and "ours" in listed and "theirs" in listed
    assert cli(["conflicts", "resolve", *common, "1", "--take", "ours", "--by", "dana"]) == 0
    assert "EstateCore's value will be written; outbox #1 is pending" in capsys.readouterr().out
    assert cli(["writeback", "post", *common]) == 0
    assert wb.sandbox.store.get(ISSUE, key)["Title"] == "ours"
    assert cli(["writeback", "retry", *common, "1"]) == 2
    assert "is done, not failed" in capsys.readouterr().err


def test_the_outbox_sensor_launches_a_write_back_run(wb, monkeypatch):
    import dagster as dg

    from rm_pipelines.definitions import defs as load_defs

    monkeypatch.setenv("RM_PIPELINES_ORGS", str(wb.resource.orgs_file))
    monkeypatch.setenv("ESTATECORE_DATABASE_URL", wb.engine.url.render_as_string(hide_password=False))
    org = wb.org()
    key = _issue(wb, 4)["ServiceManagerIssueID"]
    W.enqueue(wb.engine, org, resource=ISSUE, rm_key=key, fields={"Description": "parts ordered"}, reason="r",
              requested_by="pat")
    defs = load_defs()
    sensor = defs.resolve_sensor_def("rentmanager_outbox_sensor")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
            [request] = sensor(context).run_requests
        assert request.partition_key == "acme"
        run = defs.resolve_job_def("rentmanager_writeback").execute_in_process(
            instance=instance, partition_key="acme", tags=request.tags, raise_on_error=False)
        assert run.success
        [mat] = run.asset_materializations_for_node("writeback__outbox")
        assert mat.metadata["done"].value == 1 and mat.metadata["requests_per_record"].value == 2.0
        assert wb.sandbox.store.get(ISSUE, key)["Description"] == "parts ordered"
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
            assert isinstance(sensor(context), dg.SkipReason)
