"""Is an org's integration healthy? Figures in, a verdict out: pure rules, no database, no Dagster.

The figures come from what the pipeline recorded (`flows/health.py` reads them from `ops` and `compliance`); the
rules below turn them into a status — healthy, degraded or failing — with the issues found and a concrete
recommendation for each. Every threshold is named here so the verdict can be explained.

Rules (first match of each kind; the status is the worst kind found):
- failing: no successful sync in the last `STALE_HOURS_FAILING` hours (or ever); the latest
  `FAILED_STREAK` syncs all failed.
- degraded: success rate over 30 days below `SUCCESS_RATE_MIN`; uptime (share of scheduled syncs covered by a
  successful sync) below `UPTIME_MIN`; an entity whose last success is older than `FRESHNESS_FACTOR` × the
  incremental interval (× the key-scan interval for UDF values read with the key scan); 429s above `THROTTLE_RATE_MAX` of requests; retries above `RETRY_RATE_MAX`; the latest
  data-quality score below `DQ_SCORE_MIN` or falling by more than `DQ_DROP_MAX`; open quarantined rows; a webhook
  backlog above `WEBHOOK_BACKLOG_MAX` or older than `WEBHOOK_LAG_MAX_MINUTES`; pending write-backs older than
  `OUTBOX_AGE_MAX_MINUTES`; open write-back conflicts; a compliance evaluation older than `COMPLIANCE_AGE_MAX_DAYS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

STALE_HOURS_FAILING = 24
FAILED_STREAK = 3
SUCCESS_RATE_MIN = 0.95
UPTIME_MIN = 0.95
FRESHNESS_FACTOR = 3
THROTTLE_RATE_MAX = 0.05
RETRY_RATE_MAX = 0.05
DQ_SCORE_MIN = 0.99
DQ_DROP_MAX = 0.01
WEBHOOK_BACKLOG_MAX = 1000
WEBHOOK_LAG_MAX_MINUTES = 10
OUTBOX_AGE_MAX_MINUTES = 60
COMPLIANCE_AGE_MAX_DAYS = 2


@dataclass(frozen=True)
class SyncRun:
    mode: str
    status: str  # success | failed | abandoned | terminated | running
    started_at: datetime
    finished_at: datetime | None
    requests: int
    throttled: int
    retries: int


@dataclass
class HealthFigures:
    org_id: str
    now: datetime
    incremental_interval: timedelta | None  # between two scheduled incremental syncs (None: not scheduled)
    runs: list[SyncRun]  # the last 30 days, oldest first
    scheduled_ticks: list[datetime]  # scheduled sync times in the last 30 days, after the org's first sync
    entity_last_success: dict[str, datetime]  # oldest location per entity
    entity_interval: dict[str, timedelta] = field(default_factory=dict)
    """Entities synced on another cadence than the incremental runs (UDF values read with the key scan)."""
    dq_scores: list[tuple[datetime, float]] = field(default_factory=list)  # org-wide score per load run, oldest first
    quarantine_open: dict[str, int] = field(default_factory=dict)  # reason → open rows
    webhook_backlog: int | None = None
    webhook_oldest_pending: datetime | None = None
    outbox_pending: int | None = None
    outbox_oldest_pending: datetime | None = None
    open_conflicts: int | None = None
    last_compliance_evaluation: datetime | None = None


@dataclass(frozen=True)
class Issue:
    severity: str  # failing | degraded
    what: str
    recommendation: str


@dataclass
class HealthVerdict:
    status: str  # healthy | degraded | failing
    issues: list[Issue]
    figures: dict[str, float | int | str | None]

    @property
    def summary(self) -> str:
        if not self.issues:
            return f"{self.status}: every figure within its bounds"
        return f"{self.status}: " + "; ".join(i.what for i in self.issues)


def last_success(runs: list[SyncRun], mode: str | None = None) -> datetime | None:
    done = [r.finished_at or r.started_at for r in runs if r.status == "success" and (mode is None or r.mode == mode)]
    return max(done) if done else None


def uptime(runs: list[SyncRun], ticks: list[datetime]) -> float | None:
    """Share of scheduled ticks followed, before the next tick, by a sync that succeeded. The last tick's window is
    still open (its sync may yet come), so it counts only when a sync already covered it."""
    if not ticks:
        return None
    starts = sorted(r.started_at for r in runs if r.status == "success")
    covered = closed = 0
    for i, tick in enumerate(ticks):
        end = ticks[i + 1] if i + 1 < len(ticks) else None
        hit = any(s >= tick and (end is None or s < end) for s in starts)
        if end is not None or hit:
            closed += 1
            covered += hit
    return covered / closed if closed else None


def evaluate(f: HealthFigures) -> HealthVerdict:
    """The verdict on one org's figures (see the module docstring for the rules)."""
    issues: list[Issue] = []
    finished = [r for r in f.runs if r.status != "running"]
    successes = [r for r in finished if r.status == "success"]
    success_rate = len(successes) / len(finished) if finished else None
    up = uptime(f.runs, f.scheduled_ticks)
    requests = sum(r.requests for r in finished)
    throttle_rate = sum(r.throttled for r in finished) / requests if requests else None
    retry_rate = sum(r.retries for r in finished) / requests if requests else None
    latest_success = last_success(f.runs)

    if latest_success is None or f.now - latest_success > timedelta(hours=STALE_HOURS_FAILING):
        since = "ever" if latest_success is None else f"since {latest_success:%Y-%m-%d %H:%M} UTC"
        issues.append(Issue("failing", f"no successful sync {since}",
                            "open the latest failed run (Runs, tag rm/org) and fix its first error; "
                            "`rm-pipelines orgs test` checks credentials, locations and permissions"))
    streak = finished[-FAILED_STREAK:]
    if len(streak) == FAILED_STREAK and all(r.status != "success" for r in streak):
        issues.append(Issue("failing", f"the last {FAILED_STREAK} syncs failed",
                            "the same error is repeating: read it in the latest run and fix the cause before the "
                            "next scheduled sync"))
    if success_rate is not None and success_rate < SUCCESS_RATE_MIN:
        issues.append(Issue("degraded", f"{success_rate:.0%} of syncs succeeded over 30 days",
                            "look at the failed runs' errors for a pattern (rate limits, timeouts, a bad entity)"))
    if up is not None and up < UPTIME_MIN:
        issues.append(Issue("degraded", f"uptime {up:.0%}: scheduled syncs without a successful run",
                            "check that the daemon runs and the org's schedules are on; queued runs wait behind a "
                            "stuck one (run monitoring fails dead runs)"))
    if f.incremental_interval:
        bound = f.incremental_interval * FRESHNESS_FACTOR
        stale = sorted(e for e, at in f.entity_last_success.items()
                       if f.now - at > max(bound, f.entity_interval.get(e, bound) * FRESHNESS_FACTOR))
        if stale:
            issues.append(Issue("degraded", f"{len(stale)} entities not synced within {FRESHNESS_FACTOR}× the "
                                            f"incremental interval: {', '.join(stale[:5])}",
                                "those streams fail on their own: see their errors in the latest run"))
    if throttle_rate is not None and throttle_rate > THROTTLE_RATE_MAX:
        issues.append(Issue("degraded", f"{throttle_rate:.1%} of requests were throttled (429)",
                            "lower rentmanager.requests_per_minute: another integration shares the 500/minute "
                            "budget of this Rent Manager user"))
    if retry_rate is not None and retry_rate > RETRY_RATE_MAX:
        issues.append(Issue("degraded", f"{retry_rate:.1%} of requests were retried",
                            "Rent Manager answers with errors or drops connections: check its status, or raise "
                            "rentmanager.timeout_seconds for slow entities"))
    dq = f.dq_scores[-1][1] if f.dq_scores else None
    if dq is not None and dq < DQ_SCORE_MIN:
        issues.append(Issue("degraded", f"data-quality score {dq:.4f} (< {DQ_SCORE_MIN})",
                            "see the quarantined rows and the failed expectations on the EstateCore assets"))
    elif len(f.dq_scores) >= 2 and f.dq_scores[-2][1] - f.dq_scores[-1][1] > DQ_DROP_MAX:
        issues.append(Issue("degraded", f"data-quality score fell from {f.dq_scores[-2][1]:.4f} to "
                                        f"{f.dq_scores[-1][1]:.4f}",
                            "a change in Rent Manager data or mappings: compare the latest quarantine reasons"))
    open_rows = sum(f.quarantine_open.values())
    if open_rows:
        top = max(f.quarantine_open.items(), key=lambda kv: kv[1])
        issues.append(Issue("degraded", f"{open_rows} quarantined rows wait for a fix (most: {top[0]} × {top[1]})",
                            "fix the records in Rent Manager; a later sync loads them and resolves the quarantine"))
    if f.webhook_backlog is not None and f.webhook_backlog > WEBHOOK_BACKLOG_MAX:
        issues.append(Issue("degraded", f"{f.webhook_backlog} webhook events pending",
                            "turn the rentmanager_webhook_sensor on and check its runs"))
    if f.webhook_oldest_pending and f.now - f.webhook_oldest_pending > timedelta(minutes=WEBHOOK_LAG_MAX_MINUTES):
        minutes = int((f.now - f.webhook_oldest_pending).total_seconds() // 60)
        issues.append(Issue("degraded", f"the oldest pending webhook event is {minutes} min old",
                            "targeted runs are failing or not launched: see the webhook sensor's ticks"))
    if f.outbox_oldest_pending and f.now - f.outbox_oldest_pending > timedelta(minutes=OUTBOX_AGE_MAX_MINUTES):
        issues.append(Issue("degraded", f"{f.outbox_pending or 0} write-backs pending for over "
                                        f"{OUTBOX_AGE_MAX_MINUTES} min",
                            "run the write-back job; `rm-pipelines writeback list` shows their last errors"))
    if f.open_conflicts:
        issues.append(Issue("degraded", f"{f.open_conflicts} write-back conflicts wait for a decision",
                            "resolve them with `rm-pipelines conflicts resolve`"))
    if f.last_compliance_evaluation and f.now - f.last_compliance_evaluation > timedelta(days=COMPLIANCE_AGE_MAX_DAYS):
        issues.append(Issue("degraded", f"compliance last evaluated {f.last_compliance_evaluation:%Y-%m-%d}",
                            "the sync job's compliance step did not run or failed: see the latest sync run"))

    status = "failing" if any(i.severity == "failing" for i in issues) else "degraded" if issues else "healthy"
    figures: dict[str, float | int | str | None] = {
        "runs_30d": len(finished),
        "success_rate_30d": None if success_rate is None else round(success_rate, 4),
        "uptime_30d": None if up is None else round(up, 4),
        "last_success": latest_success.isoformat() if latest_success else None,
        "last_full_success": _iso(last_success(f.runs, "full")),
        "last_incremental_success": _iso(last_success(f.runs, "incremental")),
        "max_entity_lag_minutes": max((int((f.now - at).total_seconds() // 60)
                                       for at in f.entity_last_success.values()), default=None),
        "requests_30d": requests,
        "throttle_rate_30d": None if throttle_rate is None else round(throttle_rate, 4),
        "retry_rate_30d": None if retry_rate is None else round(retry_rate, 4),
        "dq_score": dq,
        "quarantined_open": open_rows,
        "webhook_backlog": f.webhook_backlog,
        "outbox_pending": f.outbox_pending,
        "open_conflicts": f.open_conflicts,
        "compliance_age_hours": None if f.last_compliance_evaluation is None else
        round((f.now - f.last_compliance_evaluation).total_seconds() / 3600, 1),
    }
    return HealthVerdict(status, issues, figures)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
