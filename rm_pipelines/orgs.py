"""The organisation registry (`organizations.yaml`): who we sync, how, and with which credentials.

Credentials are never in the file: it names the environment variables that hold them. A registry that does
not validate fails at load with the org and the key named, e.g.
`organizations.yaml: org 'acme': rentmanager.auth.password_env: Field required`.
"""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .compliance.model import AgencySettings, ComplianceSettings
from .rentmanager import catalog
from .settings import BUNDLED_ORGS_FILE
from .writeback.policies import Policy
from .writeback.resources import WRITABLE

EMBEDDED_SANDBOX = "embedded-sandbox"
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
UDF_REFRESH = ("nightly", "every_run")


class RegistryError(ValueError):
    """The organisation registry is invalid; the message names the file, org and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthConfig(_Strict):
    mode: Literal["user", "partner"] = "user"
    username_env: str | None = None
    password_env: str | None = None
    partner_token_env: str | None = None

    @field_validator("username_env", "password_env", "partner_token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.match(value):
            # the value may be a secret pasted by mistake: name the key, never echo the value
            raise ValueError("is not an environment variable name (letters, digits and _): the registry holds the "
                             "names of the variables that hold secrets, never the secrets themselves")
        return value

    @model_validator(mode="after")
    def _complete(self) -> AuthConfig:
        if self.mode == "user" and not (self.username_env and self.password_env):
            raise ValueError("user mode needs username_env and password_env")
        if self.mode == "partner" and not self.partner_token_env:
            raise ValueError("partner mode needs partner_token_env")
        return self


class RentManagerConfig(_Strict):
    base_url: str | None = None
    company_code: str | None = None
    auth: AuthConfig
    requests_per_minute: Annotated[int, Field(gt=0)] | None = 500
    page_size: Annotated[int, Field(ge=1, le=1000)] = 1000
    timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    concurrency: Annotated[int, Field(ge=1, le=16)] = 4
    incremental_overlap_minutes: Annotated[int, Field(ge=0)] = 10
    """How far before the previous run's read an incremental run looks again, for saves Rent Manager had not
    committed when that run read (see flows/extract.py)."""
    udf_refresh: str = "nightly"
    """When the UDF values (tenant, contact, unit, property) are read in full: `nightly` — with the daily key scan
    (and every full sync), not on incremental runs; `every_run` — on every incremental run too. Rent Manager does
    not reliably move a parent's UpdateDate when its UDF values change, so UDF values have no cursor; with
    webhooks, a Tenant or contact event refreshes that record's UDF values right away."""
    allow_insecure: bool = False
    """Allow an `http://` base URL to a host other than this machine (credentials would travel in clear)."""
    max_delete_share: Annotated[float, Field(gt=0, le=1)] = 0.2
    """A full sync refuses to flag more than this share of an entity's rows deleted in one run (at least 10 rows)
    unless the run allows a mass delete."""

    @field_validator("udf_refresh")
    @classmethod
    def _udf_refresh(cls, value: str) -> str:
        if value not in UDF_REFRESH:
            raise ValueError(f"udf_refresh {value!r} is not one of {', '.join(UDF_REFRESH)} (nightly: UDF values are "
                             "read in full with the daily key scan; every_run: on every incremental run too)")
        return value

    @model_validator(mode="after")
    def _where(self) -> RentManagerConfig:
        if bool(self.base_url) == bool(self.company_code):
            raise ValueError("give exactly one of base_url or company_code")
        if self.base_url and self.base_url != EMBEDDED_SANDBOX and not re.match(r"^https?://", self.base_url):
            raise ValueError(f"base_url {self.base_url!r} must start with https:// (or be {EMBEDDED_SANDBOX!r})")
        if self.base_url and self.base_url.startswith("http://") and not self.allow_insecure:
            host = (urlsplit(self.base_url).hostname or "").lower()
            if host not in LOOPBACK_HOSTS:
                raise ValueError(f"base_url {self.base_url!r} is plain http to {host!r}: credentials would travel in "
                                 "clear; use https:// (set allow_insecure: true only for a trusted test server)")
        return self

    @property
    def url(self) -> str:
        return self.base_url or f"https://{self.company_code}.api.rentmanager.com"

    @property
    def is_embedded_sandbox(self) -> bool:
        return self.base_url == EMBEDDED_SANDBOX


class LocationConfig(_Strict):
    id: Annotated[int, Field(ge=1)]
    name: str = ""
    timezone: str = "America/New_York"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class SchedulesConfig(_Strict):
    """Cron expressions (in the org's first location's time zone); null turns one off."""

    incremental: str | None = "0 * * * *"
    full: str | None = "0 3 * * 0"
    keyscan: str | None = "30 2 * * *"
    """A daily key-only read that flags hard deletes between full syncs."""

    @field_validator("incremental", "full", "keyscan")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value


class AgencyConfig(_Strict):
    """Rules of one monitoring agency, PJ or PHA (see compliance.model.AgencySettings)."""

    hotma_adoption_date: date | None = None
    waive_recert_for_100pct: bool = False
    first_year_recert_required: bool = True
    asset_self_cert_threshold: Decimal = Field(default=Decimal(5000), ge=0)


class ComplianceConfig(_Strict):
    """`compliance:` of an org: agency rules, the 8823 correction period, reminder buckets, limits options."""

    agencies: dict[str, AgencyConfig] = Field(default_factory=dict)
    """Keyed by the agency name a property's program election carries."""
    default_agency: AgencyConfig = AgencyConfig()
    section8_agency: AgencyConfig = AgencyConfig(hotma_adoption_date=date(2027, 1, 1))
    correction_days: int = Field(default=90, ge=1, le=366)
    recert_buckets: list[int] = Field(default_factory=lambda: [120, 90, 60, 30])
    backfill_earliest_limits: bool = False
    """Use the earliest loaded HUD table for dates before it. Demo/sandbox data only: a later year's limits
    are not the limits that applied then."""

    @field_validator("recert_buckets")
    @classmethod
    def _buckets(cls, value: list[int]) -> list[int]:
        if not value or any(v <= 0 for v in value) or sorted(value, reverse=True) != value or len(set(value)) != len(value):
            raise ValueError("must be distinct positive day counts in descending order, e.g. [120, 90, 60, 30]")
        return value

    def settings(self) -> ComplianceSettings:
        def agency(name: str, a: AgencyConfig) -> AgencySettings:
            return AgencySettings(agency=name, hotma_adoption_date=a.hotma_adoption_date,
                                  waive_recert_for_100pct=a.waive_recert_for_100pct,
                                  first_year_recert_required=a.first_year_recert_required,
                                  asset_self_cert_threshold=a.asset_self_cert_threshold)

        return ComplianceSettings(
            agencies={k: agency(k, a) for k, a in self.agencies.items()},
            default_agency=agency("default", self.default_agency),
            section8_agency=agency("pha-default", self.section8_agency),
            correction_days=self.correction_days,
            recert_buckets=tuple(self.recert_buckets),
        )


class AlertsConfig(_Strict):
    """Where an org's alerts go besides `ops.alerts`: a URL that receives them as JSON POSTs."""

    webhook_url_env: str | None = None
    """NAME of the environment variable holding the notification URL (a Slack/Teams/incident webhook)."""

    @field_validator("webhook_url_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.match(value):
            raise ValueError("is not an environment variable name: the registry holds the name of the variable that "
                             "holds the URL, never the URL itself")
        return value


WEBHOOK_EVENT_FAMILIES = ("Tenant", "TenantContact", "Prospect", "ProspectContact", "Owner", "Vendor", "ServiceIssue",
                          "ServiceIssueHistory", "ServiceIssueTechTimes")
"""The Rent Manager webhook event types (`eWebhookEventType`) whose changes rm_pipelines syncs."""
MIN_WEBHOOK_TOKEN_LENGTH = 24


class WebhooksConfig(_Strict):
    """`webhooks:` of an org: Rent Manager signs nothing, so the unguessable URL `/rentmanager/<org>/<token>` is
    the credential. The registry names the environment variable holding the token, never the token."""

    token_env: str
    public_url: str | None = None
    """Where Rent Manager reaches the receiver (`webhooks register` points the WebhookDetails there), e.g.
    https://hooks.example.com; the org path and token are appended."""
    corporate_id: str | None = None
    """Rent Manager's CorporateID of the company (default: rentmanager.company_code); deliveries naming another
    company are rejected."""
    event_types: list[str] = Field(default_factory=lambda: list(WEBHOOK_EVENT_FAMILIES))
    """Event types `webhooks register` subscribes to."""

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME.match(value):
            raise ValueError("is not an environment variable name (letters, digits and _): the registry holds the "
                             "name of the variable that holds the webhook token, never the token itself")
        return value

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        loopback = (parts.hostname or "").lower() in LOOPBACK_HOSTS
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError(f"{value!r} must be an https:// URL (the token travels in its path)")
        return value.rstrip("/")

    @field_validator("event_types")
    @classmethod
    def _families(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in WEBHOOK_EVENT_FAMILIES]
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {', '.join(WEBHOOK_EVENT_FAMILIES)}")
        return value

    def token(self) -> str:
        """The URL token, read from the environment now; a missing or short one is named, never shown."""
        value = os.environ.get(self.token_env, "")
        if not value:
            raise RegistryError(f"environment variable {self.token_env} (webhooks.token_env) is not set")
        if len(value) < MIN_WEBHOOK_TOKEN_LENGTH:
            raise RegistryError(f"environment variable {self.token_env} (webhooks.token_env) holds a token shorter "
                                f"than {MIN_WEBHOOK_TOKEN_LENGTH} characters: it is the only credential of the "
                                "webhook URL (`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return value


WritebackPolicy = Policy
_POLICY_KEY = re.compile(r"^(?P<resource>[A-Za-z]+)\.(?P<field>udf:[^,;()]+|[A-Za-z][A-Za-z0-9]*|\*)$")


class ComplianceUdfNames(_Strict):
    """Rent Manager UDFs that receive compliance results after every evaluation (null: not written)."""

    next_recertification: str | None = "Next Recertification Due"
    """Tenant UDF: the household's next recertification date."""
    compliance_status: str | None = "Compliance Status"
    """Tenant UDF: In compliance | Out of compliance | Undetermined."""
    ami_designation: str | None = "AMI Designation"
    """Unit UDF: the unit's AMI designation (% of AMI)."""


class WritebackConfig(_Strict):
    """`writeback:` of an org: what EstateCore may write to Rent Manager and who wins a conflict, per field.

    Field keys are `<Resource>.<Field>` (`ServiceManagerIssues.StatusID`), `<Resource>.udf:<UDF name>`
    (`Tenants.udf:Compliance Status`) or `<Resource>.*`; anything unnamed follows `default`."""

    default: WritebackPolicy = "manual"
    fields: dict[str, WritebackPolicy] = Field(default_factory=dict)
    compliance_udfs: ComplianceUdfNames | None = ComplianceUdfNames()
    """UDFs written after every compliance evaluation (only values that changed); null: none."""
    batch_size: Annotated[int, Field(ge=1, le=500)] = 50
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """Tries per outbox row (a 409 re-read and retried, a lost answer re-read and retried) before it fails."""

    @field_validator("fields")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            match = _POLICY_KEY.match(key)
            if not match:
                raise ValueError(f"{key!r} is not <Resource>.<Field>, <Resource>.udf:<UDF name> or <Resource>.*")
            if match["resource"] not in WRITABLE:
                raise ValueError(f"{key!r}: {match['resource']!r} is not a resource EstateCore writes "
                                 f"({', '.join(sorted(WRITABLE))})")
        return value

    def policy(self, resource: str, field: str) -> WritebackPolicy:
        """The policy of one field (`field` is a model field or `udf:<name>`)."""
        return self.fields.get(f"{resource}.{field}") or self.fields.get(f"{resource}.*") or self.default


class Org(_Strict):
    id: str
    name: str
    rentmanager: RentManagerConfig
    locations: list[LocationConfig] = Field(min_length=1)
    entities: Literal["all"] | list[str] = "all"
    property_ids: list[int] = Field(default_factory=list)
    schedules: SchedulesConfig = SchedulesConfig()
    compliance: ComplianceConfig = ComplianceConfig()
    alerts: AlertsConfig = AlertsConfig()
    mappings: dict[str, Any] | str = Field(default_factory=dict)
    webhooks: WebhooksConfig | None = None
    """Rent Manager webhooks: deliveries trigger targeted syncs of what changed (none: scheduled syncs only)."""
    writeback: WritebackConfig | None = None
    """Changes EstateCore writes back to Rent Manager (none: nothing is ever written)."""

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"{value!r} must be a slug: lower-case letters, digits, '-' or '_' (it becomes a partition key)")
        return value

    @field_validator("entities")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, list):
            unknown = [v for v in value if v not in catalog.BY_NAME]
            if unknown:
                raise ValueError(f"unknown entities {unknown}; known: {', '.join(sorted(catalog.BY_NAME))}")
        return value

    @model_validator(mode="after")
    def _udf_cadence(self) -> Org:
        if self.rentmanager.udf_refresh == "nightly" and self.schedules.keyscan is None:
            raise ValueError("rentmanager.udf_refresh: nightly reads UDF values with the daily key scan, but "
                             "schedules.keyscan is null; set a schedules.keyscan cron or rentmanager.udf_refresh: "
                             "every_run")
        return self

    @cached_property
    def entity_names(self) -> list[str]:
        return [e.name for e in catalog.ENTITIES] if self.entities == "all" else list(self.entities)

    def credential_env(self) -> dict[str, str]:
        """Credential field → the name of the environment variable holding it."""
        auth = self.rentmanager.auth
        names = (
            {"partner_token": auth.partner_token_env}
            if auth.mode == "partner"
            else {"username": auth.username_env, "password": auth.password_env}
        )
        return {k: str(v) for k, v in names.items()}

    @property
    def corporate_id(self) -> str | None:
        """The Rent Manager CorporateID webhook deliveries of this org must name (None: not checked)."""
        return (self.webhooks.corporate_id if self.webhooks else None) or self.rentmanager.company_code

    def missing_env(self) -> list[str]:
        """Names of the credential environment variables that are unset or empty right now."""
        return [env for env in self.credential_env().values() if not os.environ.get(env)]

    def credentials(self) -> dict[str, str]:
        """Read the secrets from the environment now; a missing variable is named in the error."""
        names = self.credential_env()
        out, missing = {}, []
        for field, env in names.items():
            value = os.environ.get(env or "")
            if value:
                out[field] = value
            else:
                missing.append(env)
        if missing:
            raise RegistryError(
                f"org {self.id!r}: environment variable(s) {', '.join(str(m) for m in missing)} "
                f"(rentmanager.auth) are not set"
            )
        return out


class Registry(_Strict):
    organizations: list[Org]

    @model_validator(mode="after")
    def _unique(self) -> Registry:
        seen: set[str] = set()
        for org in self.organizations:
            if org.id in seen:
                raise ValueError(f"org id {org.id!r} appears twice")
            seen.add(org.id)
        return self

    def get(self, org_id: str) -> Org:
        for org in self.organizations:
            if org.id == org_id:
                return org
        raise RegistryError(f"org {org_id!r} is not in the registry (known: {', '.join(self.ids)})")

    @property
    def ids(self) -> list[str]:
        return [o.id for o in self.organizations]


def _format_error(path: Path, data: Any, error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "organizations" and isinstance(loc[1], int):
            orgs = data.get("organizations") if isinstance(data, dict) else None
            org_id = orgs[loc[1]].get("id") if isinstance(orgs, list) and isinstance(orgs[loc[1]], dict) else None
            where = f"org {org_id!r}: " if org_id else f"organizations[{loc[1]}]: "
            loc = loc[2:]
        key = ".".join(str(p) for p in loc if not str(p).startswith("function-")) or "(top level)"
        lines.append(f"{path.name}: {where}{key}: {err['msg']}")
    return "invalid organisation registry " + str(path) + "\n  " + "\n  ".join(lines)


def _validated(path: Path, data: Any) -> Registry:
    try:
        registry = Registry.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(_format_error(path, data, exc)) from None
    return _with_mappings_checked(registry, path)


def _writable(path: Path) -> None:
    if path.resolve() == BUNDLED_ORGS_FILE.resolve():
        raise RegistryError(f"{path} is the bundled demo registry; point RM_PIPELINES_ORGS (or --file) at your own "
                            "registry file (it is created if it does not exist)")


def add_org(path: Path | str, entry: dict[str, Any]) -> Org:
    """Add one org (a registry entry as a dict) to the registry file, validated exactly like a load; the file is
    created when missing and rewritten only when the whole registry still validates (the old one is kept as
    `<file>.bak`). Returns the new org."""
    path = Path(path)
    _writable(path)
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    data = data if isinstance(data, dict) else {"organizations": []}
    orgs = data.setdefault("organizations", [])
    if any(isinstance(o, dict) and o.get("id") == entry.get("id") for o in orgs):
        raise RegistryError(f"org {entry.get('id')!r} is already in {path}")
    orgs.append(entry)
    registry = _validated(path, data)
    _write(path, data)
    return registry.get(str(entry["id"]))


def remove_org(path: Path | str, org_id: str) -> None:
    """Take an org out of the registry file (its data stays in the warehouse)."""
    path = Path(path)
    _writable(path)
    registry = load_registry(path)
    registry.get(org_id)  # an unknown org is an error naming the known ones
    data = yaml.safe_load(path.read_text())
    data["organizations"] = [o for o in data["organizations"] if o.get("id") != org_id]
    _validated(path, data)
    _write(path, data)


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.with_name(path.name + ".bak").write_text(path.read_text())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("# rm_pipelines organisation registry: who we sync, how, and the NAMES of the environment variables\n"
                   "# that hold their secrets (never the secrets themselves).\n"
                   + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))
    tmp.replace(path)


def load_registry(path: Path | str | None = None) -> Registry:
    """Load and validate the registry (default: settings' RM_PIPELINES_ORGS or the bundled demo registry)."""
    if path is None:
        from .settings import get_settings

        path = get_settings().orgs_file
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RegistryError(f"organisation registry {path} does not exist (set RM_PIPELINES_ORGS)") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"organisation registry {path} is not valid YAML: {exc}") from None
    return _validated(path, data)


def _with_mappings_checked(registry: Registry, path: Path) -> Registry:
    """Resolve mapping files beside the registry and compile every org's mapping, so a bad one fails at load."""
    from .quality.models import known_fields
    from .warehouse.mapping import MappingError, validate_org_mappings

    orgs = []
    for org in registry.organizations:
        if isinstance(org.mappings, str) and not Path(org.mappings).is_absolute():
            org = org.model_copy(update={"mappings": str((path.parent / org.mappings).resolve())})
        if org.mappings:
            try:
                validate_org_mappings(org, known_fields)
            except MappingError as exc:
                raise RegistryError(f"{path.name}: {exc}") from None
        orgs.append(org)
    return registry.model_copy(update={"organizations": orgs})
