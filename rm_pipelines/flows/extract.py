"""One org's extraction run: Rent Manager → rm_raw, with watermarks and a sync-run record. No Dagster here.

Entities are grouped into streams (an entity plus those riding in its pages) and streams run concurrently,
sharing one authenticated client per location and therefore one token and one request budget. Each page is
committed as it lands; an entity's watermark advances only after all its pages committed.

A targeted run (`run_targeted`, fed by webhooks) fetches given records by key with `filters=<Key>,in,(…)` in
URL-sized chunks, and the children of given parents by the parent key; a key asked for and not returned is
confirmed by key once more and then flagged deleted. It moves no watermark: it has not seen everything.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine

from .. import clock
from ..orgs import Org
from ..rentmanager.catalog import ENTITIES, Entity, Stream, plan_streams
from ..rentmanager.catalog import get as catalog_get
from ..rentmanager.client import ClientStats, RentManagerClient
from ..rentmanager.errors import AuthenticationError, RentManagerError
from ..warehouse import ops
from ..warehouse.locks import org_lock
from ..warehouse.raw import LandResult, RawLander
from ..webhooks.events import Target

log = logging.getLogger(__name__)

Mode = Literal["incremental", "full", "keyscan"]
# keyscan: read only the keys of each incremental entity (`fields=<Key>`) and flag the keys Rent Manager no longer
# has, without re-reading any row — a cheap daily way to learn about hard deletes between weekly full syncs.
Targets = Mapping[int | None, Mapping[str, Target]]  # location (None: every location) → entity → what to fetch
ClientFactory = Callable[[Org, int, str], RentManagerClient]  # (org, location_id, timezone) -> client
PROGRESS_EVERY_PAGES = 50
CONFIRM_CHUNK = 200  # keys per `Key,in,(…)` request: well inside URL length limits
MASS_DELETE_MIN_ROWS = 10  # below this many flagged keys the share bound does not apply


class SyncError(RuntimeError):
    """A stream failed; the message names org, entity, location and page."""


@dataclass
class EntityReport:
    entity: str
    mode: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    duplicates: int = 0  # identical repeats of a key within a page, landed once
    marked_deleted: int = 0
    pages: int = 0
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    seconds: float = 0.0
    watermark: datetime | None = None
    error: str | None = None
    table_rows: int | None = None  # live rows the org holds in the rm_raw table after the run
    confirmed_present: int = 0  # keys a full walk missed that Rent Manager still returned when asked by key
    refused_deletes: int = 0  # deletes refused by the mass-delete bound
    mass_delete: bool = False  # a delete beyond the bound that the run allowed
    targeted_ids: int = 0  # targeted run: keys and parent keys asked for

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["watermark"] = self.watermark.isoformat() if self.watermark else None
        return out


@dataclass
class SyncReport:
    org_id: str
    mode: str
    entities: dict[str, EntityReport] = field(default_factory=dict)
    seconds: float = 0.0
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # asked for, but not in the org's `entities:` selection
    deferred: list[str] = field(default_factory=list)  # UDF values left to the org's `udf_refresh` run (reported
    # with mode "deferred": nothing read, the rows held are as the key scan or the last full sync left them)

    @property
    def ok(self) -> bool:
        return not self.errors


def _rows(entity: Entity, page: list[dict], strip: tuple[str, ...]) -> list[dict]:
    """The rows of `entity` in a page: the records themselves, or their embedded `explode` list."""
    if entity.explode:
        rows = []
        for record in page:
            parent_id = record.get(entity.parent_key) if entity.parent_key else None
            for child in record.get(entity.explode) or ():
                if isinstance(child, dict) and entity.parent_key and child.get(entity.parent_key) is None:
                    child = {**child, entity.parent_key: parent_id}
                rows.append(child)
        return rows
    if strip:
        return [{k: v for k, v in r.items() if k not in strip} if isinstance(r, dict) else r for r in page]
    return page


class OrgSync:
    """Runs the selected entities of one org into rm_raw."""

    def __init__(
        self,
        org: Org,
        engine: Engine,
        client_factory: ClientFactory,
        *,
        run_id: str | None,
        logger: logging.Logger | Any = log,
        on_entity_done: Callable[[EntityReport], None] | None = None,
        lock_wait_seconds: float = 0.0,
        allow_mass_delete: bool = False,
    ) -> None:
        self.org = org
        self.engine = engine
        self.client_factory = client_factory
        self.run_id = run_id
        self.log = logger
        self.on_entity_done = on_entity_done
        self.lock_wait_seconds = lock_wait_seconds
        self.allow_mass_delete = allow_mass_delete
        self.lander = RawLander(engine, org_id=org.id, run_id=run_id)

    def run(self, entity_names: Iterable[str], mode: Mode = "incremental") -> SyncReport:
        """Extract the named entities that the org's registry entry selects; whatever ends the run, its
        `ops.sync_runs` row says `success` only when every stream of every location completed."""
        allowed = set(self.org.entity_names)
        requested = list(entity_names)
        names = [n for n in requested if n in allowed]
        report = SyncReport(org_id=self.org.id, mode=mode, skipped=[n for n in requested if n not in allowed])
        if report.skipped:
            self.log.info(f"org {self.org.id!r}: not syncing {', '.join(report.skipped)} (not in the registry's "
                          "`entities:` selection)")
        with org_lock(self.engine, self.org.id, holder=f"sync run {self.run_id or '(no run id)'}",
                      wait_seconds=self.lock_wait_seconds):
            return self._run_locked(names, mode, report)

    def run_targeted(self, targets: Targets) -> SyncReport:
        """Fetch the given records by key and the children of the given parents (entities outside the registry's
        selection are skipped); records asked for and no longer returned are confirmed and flagged deleted."""
        allowed = set(self.org.entity_names)
        requested = sorted({name for per in targets.values() for name in per})
        report = SyncReport(org_id=self.org.id, mode="targeted", skipped=[n for n in requested if n not in allowed])
        with org_lock(self.engine, self.org.id, holder=f"targeted sync run {self.run_id or '(no run id)'}",
                      wait_seconds=self.lock_wait_seconds):
            return self._recorded("targeted", report, lambda totals: self._target_locations(targets, allowed,
                                                                                            report, totals))

    def _run_locked(self, names: list[str], mode: Mode, report: SyncReport) -> SyncReport:
        return self._recorded(mode, report, lambda totals: self._sync_locations(names, mode, report, totals))

    def _recorded(self, mode: str, report: SyncReport, work: Callable[[ClientStats], None]) -> SyncReport:
        started, t0 = ops.utcnow(), time.monotonic()
        abandoned = ops.abandon_stale_sync_runs(self.engine, self.org.id, keep_run_id=self.run_id)
        if abandoned:
            self.log.warning(f"org {self.org.id!r}: marked {abandoned} earlier sync run(s) left 'running' by a process "
                             "that died as abandoned")
        sync_run = ops.start_sync_run(self.engine, run_id=self.run_id or "", org_id=self.org.id, mode=mode)
        totals = ClientStats()
        status = "failed"
        try:
            work(totals)
            status = "success" if report.ok else "failed"
        except BaseException as exc:  # recorded, then raised: the row never says success for a run that died
            report.errors.append(f"org {self.org.id!r}: sync stopped: {type(exc).__name__}: {exc}")
            status = "failed" if isinstance(exc, Exception) else "terminated"  # interrupts are BaseExceptions
            raise
        finally:
            report.seconds = time.monotonic() - t0
            report.requests, report.throttled, report.retries = totals.requests, totals.throttled, totals.retries
            ops.finish_sync_run(
                self.engine, sync_run, status=status,
                entities={k: v.as_dict() for k, v in report.entities.items()},
                requests=totals.requests, throttled=totals.throttled, retries=totals.retries,
                errors=report.errors, started_at=started,
                mode="full" if report.entities and all(r.mode == "full" for r in report.entities.values()) else mode,
            )
        return report

    def _sync_locations(self, names: list[str], mode: Mode, report: SyncReport, totals: ClientStats) -> None:
        streams = plan_streams(names)
        selected = set(names)
        if not streams:
            return
        for location in self.org.locations:
            due = self._due(streams, selected, location.id, mode, report)
            if not due:
                continue
            with self._session(location, report, totals) as client:
                if client is None:
                    return  # the same credentials serve every location: one failed login stops the run
                self._run_streams(client, due, selected, location.id, mode, report)
                if client.login_failure is not None:
                    return  # a renewal was rejected mid-run: the other locations would be rejected too
        for entity_report in report.entities.values():
            entity_report.table_rows = self.lander.live_count(catalog_get(entity_report.entity))

    def _due(self, streams: list[Stream], selected: set[str], location_id: int, mode: Mode,
             report: SyncReport) -> list[Stream]:
        """The streams an incremental run reads at a location: UDF values are left to the org's `udf_refresh` run
        (the key scan) once they have been read in full there; every other stream is read."""
        if mode != "incremental" or self.org.rentmanager.udf_refresh == "every_run":
            return streams
        synced = ops.synced_entities(self.engine, self.org.id, location_id)
        deferred = [s for s in streams if s.primary.udf and all(e.name in synced for e in s.entities
                                                                 if e.name in selected)]
        if deferred:
            names = [e.name for s in deferred for e in s.entities if e.name in selected]
            report.deferred = sorted(set(report.deferred) | set(names))
            for name in names:  # reported (not read), so what depends on them still runs
                self._add(report, EntityReport(entity=name, mode="deferred"))
            self.log.info(f"org {self.org.id!r} location {location_id}: UDF values ({', '.join(names)}) are read in "
                          f"full by the key scan (rentmanager.udf_refresh: {self.org.rentmanager.udf_refresh}), not "
                          "by incremental runs")
        return [s for s in streams if s not in deferred]

    @contextlib.contextmanager
    def _session(self, location: Any, report: SyncReport, totals: ClientStats) -> Iterator[RentManagerClient | None]:
        """A logged-in client for one location (None when it cannot be had: the reason is in the report); its
        request counts are added to `totals` at the end."""
        where = f"org {self.org.id!r} location {location.id}"
        try:
            client = self.client_factory(self.org, location.id, location.timezone)
        except (ValueError, RentManagerError) as exc:  # RegistryError (missing env vars) is a ValueError
            self._fail(report, f"{where}: cannot open a Rent Manager session: {exc}")
            yield None
            return
        with client:
            try:
                yield client if self._login(client, where, report) else None
            finally:
                for name in ("requests", "throttled", "retries", "reauthentications"):
                    setattr(totals, name, getattr(totals, name) + getattr(client.stats, name))

    def _target_locations(self, targets: Targets, allowed: set[str], report: SyncReport,
                          totals: ClientStats) -> None:
        for location in self.org.locations:
            wanted: dict[str, Target] = {}
            for where in (None, location.id):
                for name, target in (targets.get(where) or {}).items():
                    if name in allowed:
                        merged = wanted.setdefault(name, Target())
                        merged.keys |= target.keys
                        merged.parents |= target.parents
            if not wanted:
                continue
            with self._session(location, report, totals) as client:
                if client is None:
                    return
                for name in sorted(wanted):
                    for entity_report in self._run_target(client, catalog_get(name), wanted[name], location.id,
                                                          allowed):
                        self._add(report, entity_report)
        for entity_report in report.entities.values():
            entity_report.table_rows = self.lander.live_count(catalog_get(entity_report.entity))

    def _run_target(self, client: RentManagerClient, entity: Entity, target: Target, location_id: int,
                    allowed: set[str]) -> list[EntityReport]:
        """One entity's records by key (with the rows riding in their pages) and its rows by parent key."""
        riders = tuple(e for e in ENTITIES if e.via == entity.name and e.name in allowed)
        stream = Stream(entity, riders)
        reports = {e.name: EntityReport(entity=e.name, mode="targeted") for e in stream.entities}
        reports[entity.name].targeted_ids = target.size
        totals = {e.name: LandResult() for e in stream.entities}
        t0 = time.monotonic()
        strip = tuple(r.explode for r in riders if r.explode)
        asks: list[tuple[str, list[int]]] = []
        if target.keys and not entity.explode:
            asks.append(("keys", sorted(target.keys)))
        if target.parents and entity.parent_key:
            asks.append(("parents", sorted(target.parents)))
        with client.scoped_stats() as stats:
            try:
                for how, values in asks:
                    for chunk in _chunks(values, CONFIRM_CHUNK):
                        field = entity.key if how == "keys" else entity.parent_key
                        seen: dict[str, set[int]] = {e.name: set() for e in stream.entities}
                        for page in client.iter_pages(
                            entity.path, filters=[*entity.filters, (field, "in", chunk)],
                            fields=entity.fields or None, embeds=stream.embeds or None,
                            page_size=self.org.rentmanager.page_size,
                        ):
                            for e in stream.entities:
                                rows = _rows(e, page, strip if e is entity else ())
                                totals[e.name].add(self._land(e, location_id, rows, client))
                                seen[e.name].update(r[e.key] for r in rows
                                                    if isinstance(r, dict) and isinstance(r.get(e.key), int))
                                reports[e.name].pages += 1
                        gone: dict[str, list[tuple[int, int | None]]] = {}
                        if how == "keys":
                            gone[entity.name] = self.lander.live_rows(entity, location_id, keys=chunk)
                            for rider in riders:  # the riders of the records asked for
                                gone[rider.name] = self.lander.live_rows(rider, location_id, parents=chunk)
                        else:
                            gone[entity.name] = self.lander.live_rows(entity, location_id, parents=chunk)
                        for e in stream.entities:
                            absent = [(k, p) for k, p in gone.get(e.name, ()) if k not in seen[e.name]]
                            if absent:
                                self._flag_targeted(client, stream, e, location_id, absent, reports[e.name])
            except (RentManagerError, OSError, ValueError) as exc:
                message = (f"org {self.org.id!r} entity {entity.name!r} location {location_id} (targeted): {exc} "
                           "(committed pages are kept)")
                self.log.error(message)
                for r in reports.values():
                    r.error = message
            for e in stream.entities:
                _fill(reports[e.name], totals[e.name], stats, time.monotonic() - t0)
        report = reports[entity.name]
        self.log.info(f"{self.org.id}/{entity.name}: targeted {report.targeted_ids} id(s) at location {location_id}: "
                      f"{report.inserted} new, {report.updated} changed, {report.unchanged} unchanged, "
                      f"{report.marked_deleted} deleted")
        return list(reports.values())

    def _flag_targeted(self, client: RentManagerClient, stream: Stream, entity: Entity, location_id: int,
                       absent: list[tuple[int, int | None]], report: EntityReport) -> None:
        """Keys a targeted read did not return: asked for once more by key, and flagged only if still absent."""
        present = self._still_present(client, stream, entity, absent)
        gone = [key for key, _parent in absent if key not in present]
        report.confirmed_present += len(absent) - len(gone)
        report.marked_deleted += self.lander.mark_deleted_keys(entity, location_id, gone)

    def _land(self, entity: Entity, location_id: int, rows: list[dict], client: RentManagerClient,
              page_number: int | None = None) -> LandResult:
        """Land rows of an entity; rows that cannot be landed go to the quarantine, named in the log."""
        result = self.lander.land(entity, location_id, rows, client.tz)
        if result.rejected:
            ops.quarantine_rows(self.engine, [
                {**r, "org_id": self.org.id, "location_id": location_id, "entity": entity.name,
                 "stage": "extract", "run_id": self.run_id} for r in result.rejected
            ])
            where = f" of page {page_number}" if page_number else ""
            self.log.warning(
                f"{self.org.id}/{entity.name}: {len(result.rejected)} row(s){where} quarantined: "
                + "; ".join(f"{entity.key} {r['rm_key']}: {r['reasons'][0]}" for r in result.rejected[:5]))
        return result

    def _fail(self, report: SyncReport, message: str) -> None:
        self.log.error(message)
        report.errors.append(message)

    def _login(self, client: RentManagerClient, where: str, report: SyncReport) -> bool:
        """Authenticate once, before any stream; a failure is final for the run and says what to check."""
        try:
            client.authenticate()
            return True
        except AuthenticationError as exc:
            auth = self.org.rentmanager.auth
            names = ", ".join(self.org.credential_env().values())
            self._fail(report, f"{where}: Rent Manager login failed and the run stops: {exc}; check the "
                               f"environment variable(s) {names} (rentmanager.auth, mode {auth.mode})")
        except (RentManagerError, OSError) as exc:
            self._fail(report, f"{where}: Rent Manager login failed and the run stops: {exc}")
        return False

    def _run_streams(self, client: RentManagerClient, streams: list[Stream], selected: set[str], location_id: int,
                     mode: Mode, report: SyncReport) -> None:
        workers = min(self.org.rentmanager.concurrency, len(streams)) or 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sync-{self.org.id}") as pool:
            run = self._run_keyscan if mode == "keyscan" else self._run_stream
            futures = {pool.submit(run, client, stream, selected, location_id, mode): stream for stream in streams}
            for future in as_completed(futures):
                for entity_report in future.result():
                    self._add(report, entity_report)

    def _add(self, report: SyncReport, entity_report: EntityReport) -> None:
        """Count an entity's result in the run's report (and tell the caller, when it succeeded)."""
        _merge(report, entity_report, multi_location=len(self.org.locations) > 1)
        if entity_report.error:
            report.errors.append(entity_report.error)
        elif self.on_entity_done:
            self.on_entity_done(entity_report)

    def _run_keyscan(self, client: RentManagerClient, stream: Stream, selected: set[str], location_id: int,
                     mode: Mode) -> list[EntityReport]:
        """The key scan of a stream (`_scan_stream`); the selected entities it does not read are reported with
        mode `deferred`, so the EstateCore load of the same run still carries over the deletes it flagged."""
        reports = self._scan_stream(client, stream, selected, location_id)
        done = {r.entity for r in reports}
        return reports + [EntityReport(entity=e.name, mode="deferred") for e in stream.entities
                          if e.name in selected and e.name not in done]

    def _scan_stream(self, client: RentManagerClient, stream: Stream, selected: set[str],
                     location_id: int) -> list[EntityReport]:
        """Flag the deleted keys of the stream's own entity from a key-only read (children riding in other
        records and cursor-less entities are re-read whole by every incremental sync and need no scan).

        UDF values are the exception: unless the org reads them on every run (`udf_refresh: every_run`), the key
        scan is their refresh — they are read in full here, and the values that disappeared are flagged deleted."""
        entity = stream.primary
        if entity.udf:
            if self.org.rentmanager.udf_refresh == "every_run":
                return []
            return self._run_stream(client, stream, selected, location_id, "full")
        if entity.name not in selected or entity.explode or not entity.incremental:
            return []
        report = EntityReport(entity=entity.name, mode="keyscan")
        seen: set[int] = set()
        t0 = time.monotonic()
        with client.scoped_stats() as stats:
            try:
                for page in client.iter_pages(entity.path, filters=list(entity.filters) or None, fields=[entity.key],
                                              page_size=self.org.rentmanager.page_size):
                    report.pages += 1
                    seen.update(r[entity.key] for r in page if isinstance(r, dict) and isinstance(r.get(entity.key), int))
                self._flag_deleted(client, stream, entity, location_id, seen, report)
            except (RentManagerError, OSError, ValueError) as exc:
                report.error = (f"org {self.org.id!r} entity {entity.name!r} location {location_id} key scan: {exc} "
                                "(nothing was flagged deleted)")
            if report.error:
                self.log.error(report.error)
            report.rows = len(seen)
            report.requests, report.throttled, report.retries = stats.requests, stats.throttled, stats.retries
            report.seconds = round(time.monotonic() - t0, 3)
        return [report]

    def _stream_mode(self, stream: Stream, selected: set[str], location_id: int, mode: Mode) -> tuple[str, datetime | None]:
        if mode == "full" or not stream.primary.incremental:
            return "full", None
        marks = [ops.get_watermark(self.engine, self.org.id, location_id, e.name) for e in stream.entities if e.name in selected]
        if not marks or any(m is None for m in marks):
            return "full", None
        return "incremental", min(m for m in marks if m is not None)

    def _run_stream(self, client: RentManagerClient, stream: Stream, selected: set[str], location_id: int, mode: Mode) -> list[EntityReport]:
        primary = stream.primary
        targets = [e for e in stream.entities if e.name in selected]
        stream_mode, since = self._stream_mode(stream, selected, location_id, mode)
        reports = {e.name: EntityReport(entity=e.name, mode=stream_mode) for e in targets}
        filters = list(primary.filters)
        overlap = timedelta(minutes=self.org.rentmanager.incremental_overlap_minutes)
        if since is not None:
            filters.append((primary.cursor, "ge", since - overlap))
        read_start = clock.utcnow()
        strip = tuple(r.explode for r in stream.riders if r.explode)
        totals = {e.name: LandResult() for e in targets}
        seen: dict[str, set[int]] = {e.name: set() for e in targets}
        carrier_max: datetime | None = None  # the carrier's cursor when only its riders are selected
        t0 = time.monotonic()
        page_number = 0
        with client.scoped_stats() as stats:
            try:
                for page in client.iter_pages(
                    primary.path, filters=filters, fields=primary.fields or None, embeds=stream.embeds or None,
                    page_size=self.org.rentmanager.page_size,
                ):
                    page_number = page.number
                    if primary.name not in totals and primary.cursor:
                        carrier_max = _max_cursor(page, primary.cursor, client, carrier_max)
                    for entity in targets:
                        rows = _rows(entity, page, strip if entity is primary else ())
                        result = self._land(entity, location_id, rows, client, page.number)
                        if stream_mode == "full":
                            seen[entity.name].update(
                                r[entity.key] for r in rows if isinstance(r, dict) and isinstance(r.get(entity.key), int)
                            )
                        totals[entity.name].add(result)
                        reports[entity.name].pages += 1
                    if page.number % PROGRESS_EVERY_PAGES == 0:
                        self.log.info(
                            f"{self.org.id}/{primary.name}: page {page.number}"
                            + (f" of {-(-page.total_results // self.org.rentmanager.page_size)}" if page.total_results else "")
                            + f", {totals[targets[0].name].rows} rows so far"
                        )
            except (RentManagerError, OSError, ValueError) as exc:
                at_page = getattr(exc, "page", None) or page_number + 1
                message = (f"org {self.org.id!r} entity {primary.name!r} location {location_id} page {at_page}: "
                           f"{exc} (committed pages are kept; the watermark did not move)")
                self.log.error(message)
                for r in reports.values():
                    r.error = message
                    _fill(r, totals[r.entity], stats, time.monotonic() - t0)
                return list(reports.values())
            for entity in targets:
                report = reports[entity.name]
                if stream_mode == "full":
                    try:
                        self._flag_deleted(client, stream, entity, location_id, seen[entity.name], report)
                    except (RentManagerError, OSError, ValueError) as exc:
                        report.error = (f"org {self.org.id!r} entity {entity.name!r} location {location_id}: "
                                        f"{exc} (nothing was flagged deleted; the watermark did not move)")
                    if report.error:
                        self.log.error(report.error)
                        _fill(report, totals[entity.name], stats, time.monotonic() - t0)
                        continue
                    self.lander.resolve_vanished_rejections(entity, location_id, seen[entity.name])
                newest = totals[primary.name].max_update_date if primary.name in totals else carrier_max
                watermark = _next_watermark(newest, read_start, overlap)
                ops.advance_watermark(
                    self.engine, org_id=self.org.id, location_id=location_id, entity=entity.name,
                    watermark=watermark if entity.incremental or entity.via else None, mode=stream_mode,
                    run_id=self.run_id,
                )
                report.watermark = ops.get_watermark(self.engine, self.org.id, location_id, entity.name)
                _fill(report, totals[entity.name], stats, time.monotonic() - t0)
        return list(reports.values())

    def _flag_deleted(self, client: RentManagerClient, stream: Stream, entity: Entity, location_id: int,
                      seen: set[int], report: EntityReport) -> None:
        """After a complete full walk: flag the stored keys Rent Manager no longer has.

        A key the walk did not see is only a candidate (a delete elsewhere may have shifted it to a page already
        read): each candidate is asked for again by key, and only keys that are still not returned are flagged.
        Flagging more than `max_delete_share` of the entity's rows (and at least MASS_DELETE_MIN_ROWS) in one
        run is refused unless the run allows a mass delete — a lying server must not empty a table.
        """
        absent = self.lander.absent_keys(entity, location_id, seen)
        if not absent:
            return
        present = self._still_present(client, stream, entity, absent)
        gone = [key for key, _parent in absent if key not in present]
        report.confirmed_present = len(absent) - len(gone)
        if report.confirmed_present:
            self.log.info(f"{self.org.id}/{entity.name}: {report.confirmed_present} key(s) missing from the pages "
                          "were confirmed present by key and stay live")
        if not gone:
            return
        live = self.lander.live_count(entity, location_id)
        share = len(gone) / live if live else 1.0
        limit = self.org.rentmanager.max_delete_share
        if len(gone) >= MASS_DELETE_MIN_ROWS and share > limit and not self.allow_mass_delete:
            report.error = (f"org {self.org.id!r} entity {entity.name!r} location {location_id}: the full sync would "
                            f"flag {len(gone)} of {live} rows deleted ({share:.0%} > rentmanager.max_delete_share "
                            f"{limit:.0%}); nothing was flagged. If Rent Manager really deleted them (a property "
                            "sold), run the full sync again with allow_mass_delete")
            report.refused_deletes = len(gone)
            return
        report.marked_deleted = self.lander.mark_deleted_keys(entity, location_id, gone)
        if share > limit:
            report.mass_delete = True
            self.log.warning(f"{self.org.id}/{entity.name}: mass delete allowed by the run: {len(gone)} of {live} "
                             "rows flagged deleted")

    def _still_present(self, client: RentManagerClient, stream: Stream, entity: Entity,
                       absent: list[tuple[int, int | None]]) -> set[int]:
        """The candidate keys Rent Manager still returns, asked for by key (children: by re-reading their
        parents with the embedded list)."""
        present: set[int] = set()
        if entity.explode:
            primary = stream.primary
            parents = sorted({parent for _key, parent in absent if parent is not None})
            for chunk in _chunks(parents, CONFIRM_CHUNK):
                for page in client.iter_pages(
                    primary.path, filters=[*primary.filters, (entity.parent_key, "in", chunk)],
                    fields=primary.fields or None, embeds=stream.embeds or None,
                    page_size=self.org.rentmanager.page_size,
                ):
                    present.update(r[entity.key] for r in _rows(entity, page, ())
                                   if isinstance(r, dict) and isinstance(r.get(entity.key), int))
            # a child whose parent is unknown cannot be asked for: it stays live rather than be flagged blindly
            present.update(key for key, parent in absent if parent is None)
            return present
        keys = sorted(key for key, _parent in absent)
        for chunk in _chunks(keys, CONFIRM_CHUNK):
            for page in client.iter_pages(entity.path, filters=[*entity.filters, (entity.key, "in", chunk)],
                                          fields=[entity.key], page_size=self.org.rentmanager.page_size):
                present.update(r[entity.key] for r in page if isinstance(r, dict) and isinstance(r.get(entity.key), int))
        return present


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _next_watermark(newest: datetime | None, read_start: datetime, overlap: timedelta) -> datetime | None:
    """The watermark after a complete read: the next incremental run asks for `cursor ≥ watermark − overlap`.

    The overlap is there for saves Rent Manager had not committed when the read began: such a save carries an
    UpdateDate at most `overlap` before the read's start. So the next run must look back to the older of the newest
    change seen and the read's start minus the overlap — and no further: a watermark of `newest` alone would make
    every run re-read all changes of the `overlap` before the newest one, however long ago they were made.
    Nothing seen: the watermark does not move (the read's start on this machine's clock proves nothing about Rent
    Manager's clock, the newest change seen does).
    """
    if newest is None:
        return None
    return min(newest + overlap, read_start)


def _max_cursor(page: list[dict], cursor: str, client: RentManagerClient, current: datetime | None) -> datetime | None:
    for record in page:
        value = client.parse_datetime(record.get(cursor)) if isinstance(record, dict) else None
        if value is not None and (current is None or value > current):
            current = value
    return current


def _fill(report: EntityReport, result: LandResult, stats: ClientStats, seconds: float) -> None:
    report.rows = result.rows + len(result.rejected)
    report.inserted, report.updated, report.unchanged = result.inserted, result.updated, result.unchanged
    report.quarantined = len(result.rejected)
    report.duplicates = result.duplicates
    report.requests, report.throttled, report.retries = stats.requests, stats.throttled, stats.retries
    report.seconds = round(seconds, 3)


def _merge(report: SyncReport, entity_report: EntityReport, *, multi_location: bool) -> None:
    existing = report.entities.get(entity_report.entity)
    if existing is None or not multi_location:
        report.entities[entity_report.entity] = entity_report
        return
    for name in ("rows", "inserted", "updated", "unchanged", "quarantined", "duplicates", "marked_deleted", "pages",
                 "requests", "throttled", "retries", "seconds", "targeted_ids", "confirmed_present"):
        setattr(existing, name, getattr(existing, name) + getattr(entity_report, name))
    existing.error = existing.error or entity_report.error
