"""The Starlette application: Rent Manager Web API routes plus `/_sandbox/` admin endpoints.

Request pipeline for API routes: latency fault -> 429 storm -> identify the credential -> rate limit ->
5xx fault -> method check -> authentication -> location check -> route -> drop fault. Every API response
carries the x-ratelimit-* headers of its credential's window.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .. import clock
from . import catalog
from .auth import Token, TokenCapReached, TokenStore
from .config import SandboxConfig, Stats
from .faults import Faults
from .query import QueryError, page_size_number, parse_embeds, parse_fields, select_ids
from .ratelimit import RateLimiter, Verdict
from .render import Renderer
from .responses import (
    DroppedResponse,
    aspnet_message,
    error_model,
    json_bytes,
    json_obj,
    model_state,
    truncate_json,
)
from .store import SandboxStore, StoreError
from .timeutil import wire
from .writes import SaveOptionRequired, check_save_options, check_webhook_details, parse_save_options, save_udf_values

log = logging.getLogger(__name__)

API_VERSION = "12.2605.0.0"


class _Identity:
    """Who is calling: a live token, a partner token, or nobody (credential = client address)."""

    def __init__(self, credential: str, token: Token | None = None, partner: str | None = None,
                 user_id: int = 0) -> None:
        self.credential = credential
        self.token = token
        self.partner = partner
        self.user_id = user_id

    @property
    def authenticated(self) -> bool:
        return self.token is not None or self.partner is not None


class SandboxApi:
    def __init__(self, store: SandboxStore, config: SandboxConfig, faults: Faults, stats: Stats) -> None:
        self.store = store
        self.config = config
        self.faults = faults
        self.stats = stats
        self.tokens = TokenStore(config, faults)
        self.limiter = RateLimiter()
        self.renderer = Renderer(store)
        self._tz_cache: tuple[str, ZoneInfo] | None = None

    @property
    def tz(self) -> ZoneInfo:
        name = self.config.location_timezone
        if self._tz_cache is None or self._tz_cache[0] != name:
            self._tz_cache = (name, ZoneInfo(name))
        return self._tz_cache[1]

    # ---------------------------------------------------------------------------------------- pipeline
    async def handle(self, request: Request) -> Response:
        faults = self.faults
        if faults.latency_seconds > 0:
            await asyncio.sleep(faults.latency_seconds)
        if faults.take_429():
            return self._with(self._too_many(), self.limiter.exhausted(self.config.rate_limit_per_minute))
        segs = [s for s in request.url.path.split("/") if s]
        low = [s.lower() for s in segs]
        body_cache: dict[str, Any] = {}
        ident = await self._identify(request, low, body_cache)
        verdict = self.limiter.hit(ident.credential, self.config.rate_limit_per_minute)
        if not verdict.allowed:
            return self._with(self._too_many(), verdict)
        status_5xx = faults.take_5xx()
        if status_5xx is not None:
            resp = error_model(status_5xx, "An error has occurred.", "Injected sandbox fault: server error.", 500)
        else:
            try:
                resp = await self._route(request, segs, low, ident, body_cache)
            except QueryError as exc:
                resp = model_state(exc.param, exc.message)
            except Exception:  # a bug must still answer like the API does (JSON), and be visible in logs
                log.exception("sandbox error on %s %s", request.method, request.url)
                resp = error_model(500, "An error has occurred.", "Unhandled sandbox error.", 500)
        resp = self._with(resp, verdict)
        if faults.take_drop():
            self.stats.count("dropped")
            return DroppedResponse(resp)
        return resp

    @staticmethod
    def _with(resp: Response, verdict: Verdict) -> Response:
        resp.raw_headers.extend(verdict.headers())
        return resp

    @staticmethod
    def _too_many() -> Response:
        return error_model(429, "Too many requests. Please wait and try again.",
                           "The API request limit for this credential has been reached for the current window.", 429)

    async def _identify(self, request: Request, low: list[str], body_cache: dict[str, Any]) -> _Identity:
        headers = request.headers
        api_token = headers.get("x-rm12api-apitoken")
        partner = headers.get("x-rm12api-partnertoken")
        if low[:2] == ["authentication", "authorizeuser"] and request.method == "POST":
            body = await self._json_body(request, body_cache)
            username = _ci_get(body, "username") if isinstance(body, dict) else None
            if isinstance(username, str) and username:
                return _Identity(f"user:{username.lower()}")
        if api_token:
            tok = self.tokens.use(api_token.strip().strip('"'))
            if tok is not None:
                return _Identity(tok.credential, token=tok, user_id=self._user_id(tok.username))
        elif partner:
            if partner.strip() in self.config.partner_tokens:
                return _Identity(f"partner:{partner.strip()}", partner=partner.strip())
        if low[:2] == ["authentication", "deauthorize"]:
            tok = self.tokens.peek(request.query_params.get("token", "").strip('"'))
            if tok is not None:
                return _Identity(tok.credential)
        client = request.client.host if request.client else "unknown"
        return _Identity(f"anonymous:{client}")

    def _user_id(self, username: str) -> int:
        names = list(self.config.users)
        return names.index(username) + 1 if username in names else 0

    async def _json_body(self, request: Request, cache: dict[str, Any]) -> Any:
        if "json" not in cache:
            raw = await request.body()
            try:
                cache["json"] = orjson.loads(raw) if raw.strip() else None
            except orjson.JSONDecodeError:
                cache["json"] = _BAD_JSON
        return cache["json"]

    # ---------------------------------------------------------------------------------------- routing
    async def _route(self, request: Request, segs: list[str], low: list[str], ident: _Identity,
                     body_cache: dict[str, Any]) -> Response:
        method = request.method
        if method not in ("GET", "POST", "DELETE"):
            return aspnet_message(405, f"The requested resource does not support http method '{method}'.")
        if not segs:
            return aspnet_message(404, "No HTTP resource was found that matches the request URI.")
        if low[0] == "authentication":
            if method != "POST":
                return aspnet_message(405, f"The requested resource does not support http method '{method}'.")
            return await self._authentication(request, low, ident, body_cache)
        if not ident.authenticated:
            return self._unauthorized(request)
        loc = request.headers.get("x-rm12api-locationid")
        if loc is not None and loc.strip() != "1":
            return error_model(403, f"You do not have access to location {loc.strip()}.",
                               f"Location '{loc.strip()}' does not exist or is not accessible for this user.", 403)
        if low[0] == "sessioninformation" and method == "GET":
            return json_obj(self._session_info(ident))
        if low == ["current", "locations"] and method == "GET":
            return json_bytes(self.renderer.page("Locations", self.store.sorted_ids("Locations"), None,
                                                 parse_embeds("Locations", None)))
        if low == ["locations", "currentlocation"] and method == "GET":
            return json_obj(self.store.record("Locations", 1))
        spec = catalog.lookup(segs[0])
        if spec is None or not spec.top_level or spec.name not in self.store.collections():
            return _no_route(request)
        if method == "GET":
            if len(segs) == 1:
                return self._get_collection(request, spec.name)
            if len(segs) in (2, 3):
                rid = _int(segs[1])
                if rid is None:
                    return _no_route(request)
                if len(segs) == 2:
                    return self._get_instance(request, spec.name, rid)
                return self._get_sub(request, spec.name, rid, segs[2])
        elif method == "POST":
            if len(segs) == 1:
                return await self._post_collection(request, spec.name, ident, body_cache)
            if len(segs) == 2 and _int(segs[1]) is not None:
                return await self._post_instance(request, spec.name, int(segs[1]), ident, body_cache)
            if low[-1] == "userdefinedvalues" and (len(segs) == 2 or (len(segs) == 3 and _int(segs[1]) is not None)):
                return await self._post_udf_values(request, spec.name, _int(segs[1]) if len(segs) == 3 else None,
                                                   ident, body_cache)
        elif method == "DELETE":
            if len(segs) == 1:
                return await self._delete_collection(request, spec.name, body_cache)
            if len(segs) == 2 and _int(segs[1]) is not None:
                return self._delete(spec.name, [int(segs[1])])
        return _no_route(request)

    def _unauthorized(self, request: Request) -> Response:
        has_token = bool(request.headers.get("x-rm12api-apitoken") or request.headers.get("x-rm12api-partnertoken"))
        dev = ("The API token is invalid or has expired; authenticate again." if has_token
               else "No API token was supplied (X-RM12Api-ApiToken or X-RM12API-PartnerToken).")
        return error_model(401, "Authorization has been denied for this request.", dev, 401)

    # ---------------------------------------------------------------------------------------- auth routes
    async def _authentication(self, request: Request, low: list[str], ident: _Identity,
                              body_cache: dict[str, Any]) -> Response:
        action = low[1] if len(low) > 1 else ""
        q = request.query_params
        if action == "authorizeuser":
            body = await self._json_body(request, body_cache)
            if not isinstance(body, dict):
                return model_state("model", "The request body must be a UserAuthorizationModel object.")
            username, password = _ci_get(body, "username"), _ci_get(body, "password")
            location = _ci_get(body, "locationid")
            name = self.tokens.check_password(str(username or ""), str(password or "")) if username else None
            if name is None:
                return error_model(401, "Invalid username or password.",
                                   "Authentication failed: the username or password is incorrect.", 401)
            if location not in (None, 1, "1", 0):
                return error_model(403, f"You do not have access to location {location}.",
                                   f"Location '{location}' does not exist or is not accessible for this user.", 403)
            try:
                tok = self.tokens.issue(name)
            except TokenCapReached:
                return error_model(
                    400, "This user has logged in the maximum number of times. Log out of another session or "
                    "wait for one to expire.",
                    f"User '{name}' has authenticated the maximum number of times "
                    f"({self.config.max_tokens_per_user} active tokens).", 400)
            return json_obj(tok.value)
        if action == "authorizepartner":
            if ident.partner is None:
                return self._unauthorized(request)
            try:
                tok = self.tokens.issue(f"partner:{ident.partner}")
            except TokenCapReached:
                return error_model(400, "This partner has logged in the maximum number of times.", None, 400)
            return json_obj(tok.value)
        if action == "deauthorize":
            self.tokens.revoke(q.get("token", "").strip().strip('"'))
            return Response(status_code=204)
        if action == "authorizetoken":
            live = self.tokens.use(q.get("token", "").strip().strip('"'))
            if live is None:
                return self._unauthorized(request)
            return json_obj(live.value)
        if action == "changelocation":
            if not ident.authenticated:
                return self._unauthorized(request)
            loc = q.get("locationID") or q.get("locationid") or q.get("LocationID")
            if str(loc).strip() != "1":
                return error_model(403, f"You do not have access to location {loc}.", None, 403)
            return Response(status_code=204)
        return _no_route(request)

    def _session_info(self, ident: _Identity) -> dict:
        tz = self.tz

        def local(ts: float) -> str:  # token times are wall-clock seconds; shown on the sandbox's (shiftable) clock
            return wire((datetime.fromtimestamp(ts, tz) + clock.offset()).replace(tzinfo=None))

        tok = ident.token
        return {
            "ExpirationDate": local(tok.created + self.config.token_absolute_seconds) if tok else None,
            "TimeOutDate": local(tok.last_used + self.config.token_idle_seconds) if tok else None,
            "CurrentApiVersion": API_VERSION,
            "ApplicationVersion": API_VERSION,
            "BuildTimeStamp": "2026-04-29T00:00:00",
            "IsEpayAuthenticated": False,
            "LocationID": 1,
            "MetaTag": None,
        }

    # ---------------------------------------------------------------------------------------- reads
    def _params(self, request: Request) -> dict[str, str]:
        return {k.lower(): v for k, v in request.query_params.multi_items()}

    def _get_collection(self, request: Request, coll: str, *, base: Any = None, base_key: tuple = (),
                        base_deps: tuple[str, ...] = ()) -> Response:
        params = self._params(request)
        fields = parse_fields(self.store, coll, params.get("fields"))
        embeds = parse_embeds(coll, params.get("embeds"))
        size, number = page_size_number(params)
        resource = request.url.path.strip("/").split("/")[0]
        if self.faults.take_page_fault("not_found_page", resource, number):
            return error_model(404, "No records were found.", "Injected sandbox fault: page not found.", 404)
        doomed = self.faults.take_page_fault("delete_before_page", resource, number)
        if doomed:
            self.store.delete(coll, self.store.sorted_ids(coll)[:doomed[2]], missing_ok=True)
        ordering = params.get("orderingoptions") or params.get("orderby")
        ids = select_ids(self.store, coll, params.get("filters"), ordering, self.tz, base, base_key, base_deps)
        total = len(ids)
        start = (number - 1) * size
        page_ids = ids[start:start + size]
        last = max(1, math.ceil(total / size))
        headers = {"X-Total-Results": str(total), "Link": _link_header(request, number, size, last)}
        if not self.config.total_results_header:
            headers = {}
        if not page_ids:
            return self._empty(headers)
        short = self.faults.take_page_fault("short_page", resource, number)
        if short:
            page_ids = page_ids[:max(0, len(page_ids) - short[2])]
        body = self.renderer.page(coll, page_ids, fields, embeds)
        if self.faults.take_page_fault("duplicate_row", resource, number):
            self.stats.count("duplicated")
            body = self._duplicate_first(body)
        if self.faults.take_malformed(resource, number):
            self.stats.count("malformed")
            body = truncate_json(body)
        status = 206 if self.config.partial_content_206 and number < last else 200
        resp = json_bytes(body, status)
        resp.headers.update(headers)
        return resp

    def _duplicate_first(self, body: bytes) -> bytes:
        """The page with its last record replaced by a later edit of its first (same key, a newer UpdateDate where
        the record has one): what a server answers when a record is edited while it pages."""
        records = orjson.loads(body)
        if len(records) < 2:
            return body
        later = dict(records[0])
        if "UpdateDate" in later:
            later["UpdateDate"] = wire(self.store.now())
        records[-1] = later
        return orjson.dumps(records)

    def _empty(self, headers: dict[str, str]) -> Response:
        status = self.config.empty_status
        if status == 200:
            resp = json_bytes(b"[]", 200)
        elif status == 404:
            resp = error_model(404, "No records were found.", "The query matched no records.", 404)
        else:
            resp = Response(status_code=204)
        resp.headers.update(headers)
        return resp

    def _get_instance(self, request: Request, coll: str, rid: int) -> Response:
        params = self._params(request)
        fields = parse_fields(self.store, coll, params.get("fields"))
        embeds = parse_embeds(coll, params.get("embeds"))
        rec = self.store.record(coll, rid)
        if rec is None:
            return self._not_found(coll, rid)
        return json_bytes(self.renderer.one(coll, rec, fields, embeds))

    def _not_found(self, coll: str, rid: int) -> Response:
        pk = catalog.COLLECTIONS[coll].pk
        return error_model(404, f"The requested {coll} record was not found.", f"No {coll} record with {pk} {rid}.",
                           404)

    def _get_sub(self, request: Request, coll: str, rid: int, sub: str) -> Response:
        """/Tenants/{id}/Contacts and friends: an embed of one record served as a resource of its own."""
        spec = catalog.COLLECTIONS[coll]
        rec = self.store.record(coll, rid)
        emb = spec.embed(sub)
        if emb is None:
            return _no_route(request)
        if rec is None:
            return self._not_found(coll, rid)
        if emb.kind == "calc":
            if emb.name == "Balance":
                return json_obj(self.renderer.balance(rid))
            return aspnet_message(404, "No HTTP resource was found that matches the request URI.")
        if emb.kind == "one":
            target = self.renderer.linked(spec, rec, emb)
            if target is None:
                return self._empty({})
            params = self._params(request)
            return json_bytes(self.renderer.one(emb.target, target, parse_fields(self.store, emb.target,
                              params.get("fields")), parse_embeds(emb.target, params.get("embeds"))))
        key = rec.get(emb.local or spec.pk)

        def base() -> list[int]:
            return list(self.store.index(emb.target, emb.remote, emb.where).get(key, ()))

        return self._get_collection(request, emb.target, base=base, base_key=("sub", coll, rid, emb.name),
                                    base_deps=(coll,))

    # ---------------------------------------------------------------------------------------- writes
    async def _post_collection(self, request: Request, coll: str, ident: _Identity,
                               body_cache: dict[str, Any]) -> Response:
        body = await self._json_body(request, body_cache)
        if body is _BAD_JSON or body is None:
            return model_state("items", "The request body is not valid JSON.")
        if not isinstance(body, list):
            return model_state("items", f"POST /{coll} takes a JSON array of {coll} models, even for one record.")
        return self._save(request, coll, body, ident, single=False)

    async def _post_instance(self, request: Request, coll: str, rid: int, ident: _Identity,
                             body_cache: dict[str, Any]) -> Response:
        body = await self._json_body(request, body_cache)
        if not isinstance(body, dict):
            return model_state("item", f"POST /{coll}/{{id}} takes one JSON object.")
        pk = catalog.COLLECTIONS[coll].pk
        item = {k: v for k, v in body.items() if k.lower() != pk.lower()}
        item[pk] = rid
        return self._save(request, coll, [item], ident, single=True)

    def _save(self, request: Request, coll: str, items: list, ident: _Identity, *, single: bool) -> Response:
        try:
            check_save_options(self.store, coll, items, parse_save_options(self._params(request).get("saveoptions")),
                               self.config.hard_close_date)
            if coll == "WebhookDetails":
                check_webhook_details(self.store, items)
            saved = self.store.save(coll, items, user_id=ident.user_id, check_concurrency=True, strict=True)
        except StoreError as exc:
            return _store_error(exc)
        if self._params(request).get("nocontent", "").lower() == "true":
            return Response(status_code=204)
        if single:
            return json_obj(saved[0])
        return json_obj(saved)

    async def _post_udf_values(self, request: Request, coll: str, parent_id: int | None, ident: _Identity,
                               body_cache: dict[str, Any]) -> Response:
        body = await self._json_body(request, body_cache)
        if body is _BAD_JSON or body is None:
            return model_state("items", "The request body is not valid JSON.")
        try:
            saved = save_udf_values(self.store, coll, body, parent_id=parent_id, user_id=ident.user_id)
        except StoreError as exc:
            return _store_error(exc)
        if self._params(request).get("nocontent", "").lower() == "true":
            return Response(status_code=204)
        return json_obj(saved)

    async def _delete_collection(self, request: Request, coll: str, body_cache: dict[str, Any]) -> Response:
        raw = self._params(request).get("ids")
        if raw is not None:
            ids = [_int(x) for x in raw.strip().strip("()[]").split(",") if x.strip()]
        else:
            body = await self._json_body(request, body_cache)
            ids = [_int(x) for x in body] if isinstance(body, list) else []
        if not ids or any(i is None for i in ids):
            return model_state("ids", "Give the IDs to delete as ?ids=(1,2,3) or a JSON array of integers.")
        return self._delete(coll, ids)  # type: ignore[arg-type]

    def _delete(self, coll: str, ids: list[int]) -> Response:
        try:
            self.store.delete(coll, ids)
        except StoreError as exc:
            return _store_error(exc)
        return Response(status_code=204)


_BAD_JSON = object()


def _store_error(exc: StoreError) -> Response:
    msg = str(exc)
    if exc.kind == "not_found":
        return error_model(404, msg, msg, 404)
    if exc.kind == "conflict":
        return error_model(409, "This record has been changed by another user (concurrency). Reload and try again.",
                           msg, 409)
    if isinstance(exc, SaveOptionRequired):
        return error_model(412, msg, f"Save option required: {exc.option}.", 412,
                           additional={"SaveOptions": [exc.option]})
    return error_model(400, msg, msg, 400)


def _no_route(request: Request) -> Response:
    return aspnet_message(404, f"No HTTP resource was found that matches the request URI '{request.url}'.")


def _int(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def _ci_get(obj: dict, key: str) -> Any:
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == key:
            return v
    return None


def _link_header(request: Request, number: int, size: int, last: int) -> str:
    """RFC 5988 Link header repeating the query with pagenumber/pagesize."""
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    keep = [(k, v) for k, v in request.query_params.multi_items() if k.lower() not in ("pagenumber", "pagesize")]

    def url(page: int) -> str:
        return base + "?" + urlencode(keep + [("pagenumber", str(page)), ("pagesize", str(size))])

    links = [f'<{url(1)}>; rel="first"']
    if number > 1:
        links.append(f'<{url(min(number - 1, last))}>; rel="previous"')
    if number < last:
        links.append(f'<{url(number + 1)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)
