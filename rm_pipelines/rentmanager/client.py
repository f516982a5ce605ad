"""httpx client for the Rent Manager Web API.

    with RentManagerClient(base_url, username=..., password=..., location_id=1) as rm:   # or partner_token=...
        for page in rm.iter_pages("Tenants", filters=[("UpdateDate", "ge", since)], page_size=1000):
            ...                                   # page: list[dict] (+ .number, .total_results)
        saved = rm.save("Tenants", [record])      # POST array upsert, returns saved records

One token per client, shared by every thread using it; on 401 the client logs in again once and replays.
Requests go through the credential set's shared `RequestBudget`; 5xx, timeouts and dropped connections are
retried with exponential back-off and jitter; 4xx validation errors are not. A 429 is not a failure but an
order to wait: it is waited out under the shared budget (bounded by `throttle_wait_seconds`) without using up
the attempts.

Logging in is handled with care for the account: a user holds at most ~10 tokens and repeated failures can
lock it. A rejected login (401/403, wrong password, locked user, "maximum number of times") is final for the
client: it is never sent again, and every later call raises the same error. A login whose answer was lost (a
dropped connection may still have minted a token on the server) is retried at most `login_attempts` times in
the client's life.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception

from .dates import parse_rm_datetime
from .errors import (
    AuthenticationError,
    IncompleteCollectionError,
    MalformedResponseError,
    RentManagerError,
    TransportError,
    error_from_response,
)
from .query import MAX_PAGE_SIZE, Filter, build_params
from .ratelimit import DEFAULT_REQUESTS_PER_MINUTE, RequestBudget, budget_for

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
EMPTY_STATUSES = frozenset({204})


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    reauthentications: int = 0
    bytes_received: int = 0

    def snapshot(self) -> dict[str, int]:
        return dict(self.__dict__)


_scope: contextvars.ContextVar[ClientStats | None] = contextvars.ContextVar("rm_stats_scope", default=None)


def _count(field: str, amount: int = 1, *stats: ClientStats | None) -> None:
    for s in (*stats, _scope.get()):
        if s is not None:
            setattr(s, field, getattr(s, field) + amount)


class Page(list):
    """One page of records (a plain list of dicts) with where it came from."""

    def __init__(self, records: Iterable[dict], *, number: int, total_results: int | None, status: int) -> None:
        super().__init__(records)
        self.number = number
        self.total_results = total_results
        self.status = status


class _Retryable(Exception):
    """Internal: a failure worth another attempt; carries the error to raise if attempts run out."""

    def __init__(self, error: RentManagerError, pause: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.pause = pause


class RentManagerClient:
    """A session with one Rent Manager company (base URL) and location."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        partner_token: str | None = None,
        location_id: int | None = None,
        timezone: str = "America/New_York",
        requests_per_minute: int | None = DEFAULT_REQUESTS_PER_MINUTE,
        budget: RequestBudget | None = None,
        timeout: float = 120.0,
        max_attempts: int = 6,
        login_attempts: int = 3,
        throttle_wait_seconds: float = 900.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if partner_token is None and not (username and password):
            raise ValueError("RentManagerClient needs username and password, or partner_token")
        self.base_url = base_url.rstrip("/")
        self.location_id = location_id
        self.tz = ZoneInfo(timezone)
        self._username, self._password, self._partner_token = username, password, partner_token
        credential = f"partner:{partner_token[-6:]}" if partner_token else f"user:{username}"
        self.budget = budget or budget_for(self.base_url, credential, requests_per_minute)
        self.stats = ClientStats()
        self._max_attempts = max(1, max_attempts)
        self._login_attempts = max(1, login_attempts)
        self._throttle_wait = max(0.0, throttle_wait_seconds)
        self._logins_sent = 0
        self._login_failure: RentManagerError | None = None
        self.rate_limit_headers: dict[str, str] = {}  # the x-ratelimit-* headers of the latest answer that had them
        self._backoff_base, self._backoff_max = backoff_base, backoff_max
        self._sleep = sleep
        self._token: str | None = None
        self._token_lock = threading.Lock()
        headers = {"Accept": "application/json", "User-Agent": "rm_pipelines"}
        if location_id is not None:
            headers["X-RM12Api-LocationID"] = str(location_id)
        if partner_token:
            headers["X-RM12API-PartnerToken"] = partner_token
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            transport=transport,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    # -- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> RentManagerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Give the token back (a user may only hold ~10) and close connections."""
        token, self._token = self._token, None
        if token:
            try:
                self._http.post("/Authentication/DeAuthorize", params={"token": token}, headers={"X-RM12Api-ApiToken": token})
            except httpx.HTTPError as exc:  # best effort: the token expires on its own
                log.warning("Rent Manager DeAuthorize failed: %s", exc)
        self._http.close()

    # -- auth --------------------------------------------------------------------------------------------

    @property
    def uses_partner_token(self) -> bool:
        return self._partner_token is not None

    @property
    def login_failure(self) -> RentManagerError | None:
        """The error that made logging in final for this client, if any."""
        return self._login_failure

    def authenticate(self) -> None:
        """Log in (user mode) unless a token is held, and keep the token for every later call."""
        if self.uses_partner_token:
            return
        with self._token_lock:
            if self._token is None:
                self._login_locked()

    def _login_locked(self) -> None:
        if self._login_failure is not None:
            raise self._login_failure
        try:
            self._token = self._login_once()
        except RentManagerError as exc:
            if not isinstance(exc, AuthenticationError) and self._logins_sent < self._login_attempts:
                raise  # a later renewal may still succeed (it has attempts left)
            self._login_failure = exc
            raise

    def _login_once(self) -> str:
        """One `AuthorizeUser` exchange (with its own careful retries); the token, or a typed error."""
        body: dict[str, Any] = {"Username": self._username, "Password": self._password}
        if self.location_id is not None:
            body["LocationID"] = self.location_id
        path = "/Authentication/AuthorizeUser"
        response = self._send("POST", path, json=body, auth=False, login=True)
        if response.status_code >= 400:
            error = error_from_response("POST", path, response.status_code, response.reason_phrase, response.text)
            if response.status_code in (400, 401, 403):
                hint = ""
                if "maximum number of times" in str(error).lower():
                    hint = (" (the user holds the most tokens Rent Manager allows; they free themselves after about"
                            " 15 minutes idle — check other integrations using this user)")
                raise AuthenticationError(
                    f"Rent Manager login as {self._username!r} was rejected: {error}{hint}",
                    method="POST", path=path, status=response.status_code,
                    user_message=error.user_message, developer_message=error.developer_message,
                )
            raise error
        try:
            token = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            token = response.text.strip().strip('"')
        if not isinstance(token, str) or not token:
            raise MalformedResponseError(
                f"Rent Manager login (POST {path}) returned no token ({len(response.content)} bytes)",
                method="POST", path=path, status=response.status_code,
            )
        return token

    def _auth_headers(self) -> dict[str, str]:
        if self.uses_partner_token:
            return {}
        if self._token is None:
            with self._token_lock:
                if self._token is None:
                    self._login_locked()
        return {"X-RM12Api-ApiToken": self._token or ""}

    def _reauthenticate(self, stale_token: str | None) -> None:
        with self._token_lock:
            if self._token == stale_token:  # another thread may already have renewed it
                _count("reauthentications", 1, self.stats)
                self._login_locked()

    # -- raw calls ---------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, auth: bool = True, login: bool = False, idempotent: bool = True,
              **kwargs: Any) -> httpx.Response:
        """One HTTP exchange through the shared budget, retried on 429/5xx/transport failures.

        A 429 does not use up an attempt: it is waited out (the budget pauses every stream) for at most
        `throttle_wait_seconds` in all. For a login (`login=True`) every other failure counts against the
        client's lifetime `login_attempts`, because a lost answer may have minted a token on the server.
        A call that is not `idempotent` (a write) is retried on 429 only: after a 5xx or a lost answer the
        server may have applied it, so the caller must look before sending it again.
        """
        extra_headers = kwargs.pop("headers", None) or {}
        call = "login (POST /Authentication/AuthorizeUser)" if login else f"call {method} {path}"
        failures = [0]  # attempts that failed for a reason other than 429
        throttled_wait = [0.0]

        def attempt() -> httpx.Response:
            if login:
                if self._logins_sent >= self._login_attempts:
                    raise self._login_exhausted(path)
                self._logins_sent += 1
            self.budget.acquire()
            _count("requests", 1, self.stats)
            headers = {**extra_headers, **self._auth_headers()} if auth else extra_headers
            try:
                response = self._http.request(method, path, headers=headers, **kwargs)
            except (httpx.TransportError, httpx.DecodingError) as exc:
                failures[0] += 1
                error = TransportError(f"Rent Manager {call} failed: {type(exc).__name__}: {exc}", method=method,
                                       path=path)
                if not idempotent:
                    raise error from exc
                raise _Retryable(error) from exc
            _count("bytes_received", len(response.content), self.stats)
            seen = {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-ratelimit")}
            if seen:
                self.rate_limit_headers = seen
            pause = self.budget.observe(response.status_code, response.headers)
            if response.status_code == 429:
                _count("throttled", 1, self.stats)
                if login:
                    self._logins_sent -= 1  # a throttled login reached no account logic: it minted nothing
            elif response.status_code in RETRY_STATUSES:
                failures[0] += 1
            if response.status_code in RETRY_STATUSES:
                error = error_from_response(method, path, response.status_code, response.reason_phrase, response.text)
                if login:
                    error.args = (f"Rent Manager {call}: {error}",)
                if not idempotent and response.status_code != 429:
                    raise error
                raise _Retryable(error, pause)
            return response

        def stop(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.error.status == 429:
                return throttled_wait[0] >= self._throttle_wait
            if login and self._logins_sent >= self._login_attempts:
                return True
            return failures[0] >= self._max_attempts

        def wait(state: RetryCallState) -> float:
            seconds = self._wait(state, failures[0])
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.error.status == 429:
                throttled_wait[0] += seconds
            return seconds

        retrying = Retrying(
            stop=stop,
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            wait=wait,
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            error = exc.error
            if error.status == 429:
                error.args = (f"{error} (still throttled after waiting {throttled_wait[0]:.0f}s)",)
            raise error from exc.__cause__

    def _login_exhausted(self, path: str) -> RentManagerError:
        return AuthenticationError(
            f"Rent Manager login (POST {path}) was attempted {self._logins_sent} times without an answer; not "
            "trying again, because each unanswered login may have used one of the user's ~10 tokens",
            method="POST", path=path,
        )

    def _wait(self, state: RetryCallState, failures: int) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.pause:
            return exc.pause  # the budget already pauses every stream; wait it out here too
        backoff = min(self._backoff_max, self._backoff_base * 2 ** max(0, failures - 1))
        return backoff / 2 + random.uniform(0, backoff / 2)

    def _count_retry(self, state: RetryCallState) -> None:
        _count("retries", 1, self.stats)
        exc = state.outcome.exception() if state.outcome else None
        log.info("Rent Manager retry %d after: %s", state.attempt_number, getattr(exc, "error", exc))

    def request(self, method: str, path: str, *, page: int | None = None, **kwargs: Any) -> httpx.Response:
        """An authenticated call; on 401 logs in again once and replays; raises typed errors on failure."""
        path = "/" + path.lstrip("/")
        stale = self._token
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and not self.uses_partner_token:
            self._reauthenticate(stale)
            response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise error_from_response(method, path, response.status_code, response.reason_phrase, response.text, page=page)
        return response

    def _json(self, response: httpx.Response, method: str, path: str, page: int | None = None) -> Any:
        if response.status_code in EMPTY_STATUSES or not response.content.strip():
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            where = f"{method} {path}" + (f" (page {page})" if page is not None else "")
            raise MalformedResponseError(
                f"Rent Manager call {where} returned a body that is not valid JSON ({exc}); "
                f"{len(response.content)} bytes (not quoted: they can hold personal data)",
                method=method, path=path, status=response.status_code, page=page,
            ) from exc

    # -- reads -------------------------------------------------------------------------------------------

    def get(self, path: str, *, params: dict[str, str] | None = None) -> Any:
        """GET any route and return its decoded JSON (None for an empty body)."""
        response = self.request("GET", path, params=params)
        return self._json(response, "GET", path)

    def get_page(
        self,
        resource: str,
        page_number: int,
        *,
        filters: Iterable[Filter] | None = None,
        fields: Iterable[str] | None = None,
        embeds: Iterable[str] | None = None,
        ordering: Iterable[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Page:
        """One page of a collection. Empty (204, empty body, `[]`, or 404 for a collection) → empty page."""
        params = build_params(
            tz=self.tz, filters=filters, fields=fields, embeds=embeds, ordering=ordering,
            page_size=page_size, page_number=page_number,
        )
        path = "/" + resource.strip("/")
        try:
            response = self.request("GET", path, params=params, page=page_number)
        except RentManagerError as exc:
            if exc.status == 404:  # "no records" for a collection; its count is unknown (callers check)
                return Page([], number=page_number, total_results=None, status=404)
            raise
        data = self._json(response, "GET", path, page_number)
        if data is None:
            records: list = []
        elif isinstance(data, list):
            records = data
        else:
            raise MalformedResponseError(
                f"Rent Manager call GET {path} (page {page_number}) returned a {type(data).__name__}, not a list",
                method="GET", path=path, status=response.status_code, page=page_number,
            )
        total = response.headers.get("X-Total-Results")
        return Page(
            records,
            number=page_number,
            total_results=int(total) if total and total.isdigit() else None,
            status=response.status_code,
        )

    def iter_pages(
        self,
        resource: str,
        *,
        filters: Iterable[Filter] | None = None,
        fields: Iterable[str] | None = None,
        embeds: Iterable[str] | None = None,
        ordering: Iterable[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        start_page: int = 1,
        prefetch: bool = True,
    ) -> Iterator[Page]:
        """Every page of a collection, in order; the pages add up to what the server said, or it raises.

        With `X-Total-Results`, a page must hold every row its own header promises (`min(pageSize, total −
        rows before it)`) and the walk ends when the header says nothing is left. Without it, a short page ends
        the walk only after a probe of the next page comes back empty. A page that holds fewer rows than promised,
        or rows after a short page, raises IncompleteCollectionError naming the page: a caller must not take
        such a walk as the whole collection (a full sync would flag the missing keys as deleted).
        With `prefetch`, the next page is requested while the caller works on the current one.
        """
        filters, fields, embeds, ordering = (list(x) if x else None for x in (filters, fields, embeds, ordering))
        path = "/" + resource.strip("/")
        fetch = lambda n: self.get_page(  # noqa: E731
            resource, n, filters=filters, fields=fields, embeds=embeds, ordering=ordering, page_size=page_size
        )
        # The prefetch thread counts into the caller's stats scope too.
        submit = lambda pool, n: pool.submit(contextvars.copy_context().run, fetch, n)  # noqa: E731
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rm-{resource}") as pool:
            pending: Future[Page] | None = submit(pool, start_page)
            known_total: int | None = None  # the latest X-Total-Results seen
            while pending is not None:
                page = pending.result()
                pending = None
                before = (page.number - 1) * page_size
                if page.total_results is not None:
                    known_total = page.total_results
                    expected = max(0, min(page_size, known_total - before))
                    if len(page) < expected:
                        raise self._incomplete(path, page, f"it holds {len(page)} rows where its X-Total-Results "
                                                           f"({known_total}) promises {expected}")
                    more = before + len(page) < known_total
                elif known_total is not None and len(page) < min(page_size, max(0, known_total - before)):
                    # no header on this page (e.g. a 404 or an empty 204), but an earlier page promised rows here
                    raise self._incomplete(path, page, f"it holds {len(page)} rows although X-Total-Results "
                                                       f"({known_total}) of an earlier page promised more")
                else:
                    more = len(page) >= page_size
                if len(page) > page_size:
                    raise self._incomplete(path, page, f"it holds {len(page)} rows, more than pageSize {page_size}")
                if more and prefetch:
                    pending = submit(pool, page.number + 1)
                if page:
                    yield page
                if more:
                    if pending is None:
                        pending = submit(pool, page.number + 1)
                    continue
                if page.total_results is None and len(page) < page_size and (page or page.number > start_page):
                    # a short or empty page without a count ends the walk only when the next page is empty too
                    probe = fetch(page.number + 1)
                    if probe:
                        raise self._incomplete(path, page, f"it holds {len(page)} of pageSize {page_size} rows "
                                                           f"but page {probe.number} has {len(probe)} more")

    @staticmethod
    def _incomplete(path: str, page: Page, why: str) -> RentManagerError:
        return IncompleteCollectionError(
            f"Rent Manager call GET {path} page {page.number} is incomplete: {why}; the collection was not read "
            "whole", method="GET", path=path, status=page.status, page=page.number)

    def iter_records(self, resource: str, **kwargs: Any) -> Iterator[dict]:
        for page in self.iter_pages(resource, **kwargs):
            yield from page

    # -- writes ------------------------------------------------------------------------------------------

    def save(self, resource: str, records: list[dict], *, save_options: Iterable[str] | None = None) -> list[dict]:
        """POST an array (Rent Manager's create-or-update); returns the saved records.

        Updates must carry the record's current UpdateDate (and ConcurrencyID where the model has one);
        a stale one raises ConflictError (409), a save that needs an override PreconditionFailedError (412).
        A save is never sent twice by the client: after a lost answer (TransportError) or a 5xx it may have
        been applied, so the caller re-reads the record before trying again.
        """
        if not isinstance(records, list):
            raise TypeError("save() takes a list of records; Rent Manager's collection POST expects an array")
        params = {"saveOptions": ",".join(save_options)} if save_options else None
        path = "/" + resource.strip("/")
        response = self.request(
            "POST", path, params=params, content=orjson.dumps(records), headers={"Content-Type": "application/json"},
            idempotent=False,
        )
        data = self._json(response, "POST", path)
        return data if isinstance(data, list) else ([] if data is None else [data])

    def delete(self, resource: str, ids: Iterable[int]) -> None:
        """DELETE /{Resource}?ids=(1,2,3)."""
        id_list = ",".join(str(int(i)) for i in ids)
        if id_list:
            self.request("DELETE", "/" + resource.strip("/"), params={"ids": f"({id_list})"})

    @contextlib.contextmanager
    def scoped_stats(self) -> Iterator[ClientStats]:
        """Count the calls made inside this block (in this thread and its prefetches) separately."""
        stats = ClientStats()
        token = _scope.set(stats)
        try:
            yield stats
        finally:
            _scope.reset(token)

    # -- helpers -----------------------------------------------------------------------------------------

    def parse_datetime(self, value: str | None):
        """A Rent Manager timestamp of this location as an aware datetime."""
        return parse_rm_datetime(value, self.tz)
