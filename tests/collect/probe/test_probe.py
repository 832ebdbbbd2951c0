"""The event probe through the real msgraph-sdk against the sandbox's audit search emulator."""

from __future__ import annotations

import copy
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from assessor.engine.model import Status
from assessor.evidence import evidence_to_dict
from assessor.sandbox.auditlog import expected_users, with_audit_log
from assessor.sandbox.spec import ErrorSpec
from tests.helpers.probe import EVENTS, audit_requests, probe
from tests.helpers.support import assess_doc, example, finding

DAYS = 7
FAST = {"query_seconds": 0.2}
# contoso: 197 in-scope users; the spec's fractions 0.9 / 0.75 / 0.1 / 0.0 give exactly these users.
CONTOSO_USERS = {
    "MailItemsAccessed": 177,
    "Send": 147,
    "SearchQueryInitiatedSharePoint": 19,
    "SearchQueryInitiatedExchange": 0,
}
CONTOSO_PER_DAY = {
    "MailItemsAccessed": 12,
    "Send": 4,
    "SearchQueryInitiatedSharePoint": 2,
    "SearchQueryInitiatedExchange": 0,
}


def contoso(**overrides: Any) -> Any:
    return with_audit_log("contoso", **{**FAST, **overrides})


def e3_ingesting() -> dict[str, Any]:
    """The E3 example evidence with ingestion switched on (its own is off, which fails every EVT check)."""
    doc = example("e3-standard-ingestion-off")
    doc["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    return doc


def test_contoso_figures_are_exact(serve: Any) -> None:
    tenant = contoso()
    server = serve(tenant)
    section = probe(server, "contoso", days=DAYS)
    assert section.provenance.status == "collected"
    data = section.data
    assert data is not None
    assert data.window_end - data.window_start == timedelta(days=DAYS)
    for op, users in CONTOSO_USERS.items():
        obs = data.operations[op]
        assert obs.distinct_users == users == expected_users(tenant, op)
        assert obs.records == users * CONTOSO_PER_DAY[op] * DAYS
    assert data.total_records == sum(u * CONTOSO_PER_DAY[op] * DAYS for op, u in CONTOSO_USERS.items())
    # one query per operation, all succeeded, none cut at the record-count limit
    assert sorted(op for q in data.queries for op in q.operations) == sorted(EVENTS)
    assert {(q.status, q.record_count_limit_exceeded) for q in data.queries} == {("succeeded", False)}
    mia = data.operations["MailItemsAccessed"]
    assert mia.first_seen == data.window_start
    assert mia.last_seen is not None and data.window_start + timedelta(days=DAYS - 1) < mia.last_seen < data.window_end


def test_mailitemsaccessed_app_id_baseline(serve: Any) -> None:
    server = serve(contoso())
    data = probe(server, "contoso", operations=["MailItemsAccessed", "Send"], days=DAYS).data
    assert data is not None
    mia = data.operations["MailItemsAccessed"]
    assert mia.distinct_app_ids == 4
    counts = {a.app_id: a.count for a in mia.top_app_ids}
    assert sum(counts.values()) == mia.records
    # weights 45/35/15/5 over 177 x 12 x 7 = 14868 records: exact shares over every 100-record cycle
    owa = counts["00000002-0000-0ff1-ce00-000000000000"]
    assert abs(owa / mia.records - 0.45) < 0.001
    assert [a.count for a in mia.top_app_ids] == sorted(counts.values(), reverse=True)
    assert data.operations["Send"].distinct_app_ids is None  # AppIds are the baseline for MailItemsAccessed only


def test_combined_query_gives_the_same_figures(serve: Any) -> None:
    server = serve(contoso())
    separate = probe(server, "contoso").data
    combined = probe(server, "contoso", combine=True).data
    assert separate is not None and combined is not None
    assert len(combined.queries) == 1 and sorted(combined.queries[0].operations) == sorted(EVENTS)
    for op in EVENTS:
        assert combined.operations[op].distinct_users == separate.operations[op].distinct_users
        assert combined.operations[op].records == separate.operations[op].records


def test_observed_users_reach_report(serve: Any) -> None:
    server = serve(contoso())
    section = probe(server, "contoso")
    doc = e3_ingesting()
    doc["audit_probe"] = json.loads(section.model_dump_json())
    report = assess_doc(doc, "cisa-aa23-193a")
    for op, users in CONTOSO_USERS.items():
        assert report.events[op].observed_users == users
    assert finding(report, "EVT-01").status == Status.PASS
    evt03 = finding(report, "EVT-03")  # SearchQueryInitiatedExchange: nobody has it
    assert evt03.status in (Status.FAIL, Status.WARN)


def test_log_without_mailitemsaccessed_warns_or_fails(serve: Any) -> None:
    tenant = with_audit_log("fabrikam", users=300, **FAST)
    server = serve(tenant)
    section = probe(server, "fabrikam", operations=["MailItemsAccessed", "Send"])
    assert section.data is not None
    assert section.data.operations["MailItemsAccessed"].records == 0
    assert section.data.operations["Send"].distinct_users == expected_users(tenant, "Send") > 0
    doc = e3_ingesting()  # every mailbox audits MailItemsAccessed by its settings
    doc["audit_probe"] = json.loads(section.model_dump_json())
    baseline = finding(assess_doc(copy.deepcopy(doc), "baseline"), "EVT-01")
    assert baseline.status == Status.WARN
    assert "no MailItemsAccessed record arrived in the last 7 days" in baseline.message
    strict = finding(assess_doc(doc, "cisa-aa23-193a"), "EVT-01")  # missing_event_status: fail
    assert strict.status == Status.FAIL
    assert finding(assess_doc(doc, "baseline"), "EVT-02").status == Status.PASS


def test_records_show_ingestion_was_on_not_that_it_is(serve: Any) -> None:
    server = serve(contoso())
    section = probe(server, "contoso", operations=["Send"])
    doc = e3_ingesting()
    doc["exchange"]["admin_audit_log_config"] = {"provenance": {"status": "not_collected", "reason": "no token"}}
    doc["audit_probe"] = json.loads(section.model_dump_json())
    aud = finding(assess_doc(doc, "baseline"), "AUD-01")
    # records show ingestion was on until the newest of them, not that it is on now
    assert aud.status == Status.UNKNOWN and "show ingestion was on until" in aud.message


def test_gcc_high_is_not_collected_without_any_call(serve: Any) -> None:
    server = serve("gov")
    section = probe(server, "gov", cloud="gcc-high")
    assert section.provenance.status == "not_collected"
    assert "Global cloud" in (section.provenance.reason or "")
    assert audit_requests(server) == []
    assert server.stats("gov")["requests"] == 0
    doc = example("gcc-high-no-exchange")
    doc["audit_probe"] = json.loads(section.model_dump_json())
    report = assess_doc(doc, "cisa-aa23-193a")
    assert report.events["MailItemsAccessed"].observed_users is None
    assert finding(report, "EVT-01").status == Status.UNKNOWN


def test_forbidden_names_the_permission(serve: Any) -> None:
    server = serve(contoso(), errors=[ErrorSpec(path="/security/auditLog", status=403)])
    section = probe(server, "contoso")
    assert section.provenance.status == "not_collected"
    reason = section.provenance.reason or ""
    assert "403" in reason and "AuditLogsQuery.Read.All" in reason
    assert "AuditLogsQuery-Exchange.Read.All for MailItemsAccessed" in reason
    fix = section.provenance.fix or ""  # every query was refused: the fix names every workload's permission
    assert "AuditLogsQuery.Read.All" in fix
    assert "AuditLogsQuery-Exchange.Read.All for MailItemsAccessed" in fix
    assert "AuditLogsQuery-SharePoint.Read.All for SearchQueryInitiatedSharePoint" in fix


def test_one_failing_query_leaves_the_others_counted(serve: Any) -> None:
    """A query that fails (here: ends 'failed') drops only its own operation's figures."""
    base = contoso()
    operations = dict(base.spec.extensions["audit_log"]["operations"])
    operations["Send"] = {**operations["Send"], "final_status": "failed"}
    server = serve(with_audit_log(base, operations=operations))
    section = probe(server, "contoso")
    assert section.provenance.status == "collected"
    data = section.data
    assert data is not None
    by_op = {q.operations[0]: q for q in data.queries}
    failed = by_op["Send"]
    assert failed.error is not None and "status 'failed'" in failed.error and failed.fix
    assert "Send" not in data.operations
    assert data.operations["MailItemsAccessed"].distinct_users == CONTOSO_USERS["MailItemsAccessed"]
    assert (
        data.operations["SearchQueryInitiatedSharePoint"].distinct_users
        == CONTOSO_USERS["SearchQueryInitiatedSharePoint"]
    )
    assert data.total_records == sum(o.records for o in data.operations.values())
    assert all(q.error is None for op, q in by_op.items() if op != "Send")
    # the report: the failed event is unknown with its query's reason; the others are judged
    doc = e3_ingesting()
    doc["audit_probe"] = json.loads(section.model_dump_json())
    report = assess_doc(doc, "cisa-aa23-193a")
    assert report.events["Send"].observed_users is None
    assert "status 'failed'" in (report.events["Send"].probe_unavailable or "")
    evt02 = finding(report, "EVT-02")
    assert evt02.status == Status.UNKNOWN and "status 'failed'" in evt02.message and evt02.fix
    assert report.events["MailItemsAccessed"].observed_users == CONTOSO_USERS["MailItemsAccessed"]
    assert finding(report, "EVT-01").status == Status.PASS


@pytest.mark.parametrize("final", ["failed", "cancelled"])
def test_failed_or_cancelled_query_is_not_collected(serve: Any, final: str) -> None:
    server = serve(contoso(final_status=final))
    section = probe(server, "contoso", operations=["MailItemsAccessed"])
    assert section.provenance.status == "not_collected"
    reason = section.provenance.reason or ""
    assert f"status '{final}'" in reason and "MailItemsAccessed" in reason
    assert section.data is None


def test_timeout_is_not_collected_within_the_bound(serve: Any) -> None:
    server = serve(contoso(query_seconds=5))  # notStarted for 0.5 s, then running
    started = time.perf_counter()
    section = probe(server, "contoso", operations=["MailItemsAccessed"], timeout=1.0)
    assert time.perf_counter() - started < 3
    assert section.provenance.status == "not_collected"
    reason = section.provenance.reason or ""
    assert "probe timeout of 1 s" in reason and "running" in reason
    assert "--probe-timeout" in (section.provenance.fix or "")


def test_paging_across_many_pages(serve: Any) -> None:
    server = serve(contoso(page_size=100))
    section = probe(server, "contoso", operations=["Send"], days=3, page_size=37)
    assert section.data is not None
    expected = 147 * 4 * 3
    assert section.data.total_records == expected
    pages = [p for p in audit_requests(server) if p.split("?")[0].endswith("/records")]
    assert len(pages) == -(-expected // 37)
    assert all("%24top=37" in p or "$top=37" in p for p in pages)


def test_keep_records_streams_every_record(serve: Any, tmp_path: Path) -> None:
    server = serve(contoso())
    target = tmp_path / "records.jsonl"
    section = probe(server, "contoso", operations=["MailItemsAccessed", "Send"], days=2, keep_records=target)
    assert section.data is not None
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == section.data.total_records == (177 * 12 + 147 * 4) * 2
    first = json.loads(lines[0])
    assert first["operation"] in ("MailItemsAccessed", "Send") and "auditData" in first
    assert [p.name for p in tmp_path.iterdir()] == ["records.jsonl"]  # no temp file left


def test_keep_records_leaves_nothing_when_the_probe_fails(serve: Any, tmp_path: Path) -> None:
    server = serve(contoso(final_status="failed"))
    target = tmp_path / "records.jsonl"
    section = probe(server, "contoso", keep_records=target)
    assert section.provenance.status == "not_collected"
    assert list(tmp_path.iterdir()) == []


def test_record_count_limit_is_reported(serve: Any) -> None:
    server = serve(contoso(record_count_limit=500))
    data = probe(server, "contoso", operations=["MailItemsAccessed"]).data
    assert data is not None
    assert data.queries[0].record_count_limit_exceeded is True
    assert data.total_records == 500


def test_service_filters_sent_by_the_sdk_and_records_classified_by_workload(serve: Any) -> None:
    """Queries narrowed by Workload (serviceFilters), as Microsoft classifies records, not by guessed record
    type names; every record is counted by the Workload it carries (Graph's ``service``)."""
    server = serve(contoso())
    data = probe(server, "contoso", operations=["MailItemsAccessed", "Send"], service_filters=True).data
    assert data is not None
    assert data.operations["MailItemsAccessed"].distinct_users == 177
    assert data.operations["Send"].distinct_users == 147
    mia = data.operations["MailItemsAccessed"]
    assert mia.workloads == {"Exchange": mia.records}


def test_evidence_round_trips(serve: Any) -> None:
    server = serve(contoso())
    section = probe(server, "contoso", operations=["MailItemsAccessed"])
    doc = e3_ingesting()
    doc["audit_probe"] = json.loads(section.model_dump_json())
    from assessor.evidence import parse_evidence

    evidence = parse_evidence(doc)
    assert evidence_to_dict(evidence)["audit_probe"]["data"]["operations"]["MailItemsAccessed"]["distinct_users"] == 177


def test_window_must_be_within_retention(serve: Any) -> None:
    from assessor.errors import UsageError

    server = serve(contoso())
    with pytest.raises(UsageError, match="between 1 and 180"):
        probe(server, "contoso", days=0)
    with pytest.raises(UsageError):
        probe(server, "contoso", days=181)
    assert audit_requests(server) == []


def test_raw_http_accepts_both_record_type_spellings(serve: Any) -> None:
    server = serve(contoso(query_seconds=0))
    url = server.graph_url("contoso") + "/security/auditLog/queries"
    headers = {"Authorization": "Bearer sandbox"}
    window = {"filterStartDateTime": "2026-11-18T00:00:00Z", "filterEndDateTime": "2026-11-25T00:00:00Z"}
    counts = []
    for spelling in (["exchangeItemAggregated", "exchangeItem"], ["ExchangeItemAggregated", "ExchangeItem"]):
        created = httpx.post(url, json={**window, "recordTypeFilters": spelling}, headers=headers)
        assert created.status_code == 201
        got = httpx.get(f"{url}/{created.json()['id']}", headers=headers).json()
        assert got["status"] == "succeeded"
        assert got["recordTypeFilters"] == ["exchangeItemAggregated", "exchangeItem"]
        counts.append(got["approximateReturnedRecordCount"])
    assert counts[0] == counts[1] == (177 * 12 + 147 * 4) * 7
    bad = httpx.post(url, json={**window, "recordTypeFilters": ["exchangeItemz"]}, headers=headers)
    assert bad.status_code == 400 and "auditLogRecordType" in bad.json()["error"]["message"]


def test_throttled_audit_search_is_retried(serve: Any) -> None:
    from assessor.sandbox.spec import ThrottleSpec

    throttle = ThrottleSpec(first=2, retry_after=1, paths=["/security/auditLog"])
    server = serve(contoso(), throttle=throttle)
    data = probe(server, "contoso", operations=["Send"]).data
    assert data is not None and data.operations["Send"].distinct_users == 147
    assert server.stats("contoso")["by_status"].get(429) == 2
