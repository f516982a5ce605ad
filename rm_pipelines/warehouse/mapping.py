"""Rent Manager → EstateCore mappings: the default mapping is data (tables.py: field, target, transform, required,
default per column, and UDF name → typed attribute), and each org may override it in YAML.

Org overrides live under `mappings:` in the org registry, inline or as a path to a YAML file (relative paths
are resolved beside the registry file):

```yaml
mappings:
  units:                                   # EstateCore table
    rename: {Name: UnitNumber}             # this org's payload has UnitNumber where Rent Manager has Name
    fields:                                # per EstateCore column (or custom.<name>)
      name: {transform: upper}             # another named transform
      bedrooms: {default: 0, required: true}
      comment: null                        # do not load this column
      custom.marketing_blurb: {field: Comment, transform: strip}   # retarget into the custom JSON column
  residents:
    fields:
      first_name: {transform: title_case}
  udfs:                                    # UDF name → typed attribute, per UDF parent type
    Unit:
      "Tax Credit BIN": bin                # shorthand: target column
      "BIN": null                          # stop reading the default name
    Tenant:
      "Household Income": {target: certified_annual_income, transform: money}
```

An invalid mapping fails when it is compiled (at load, or `validate_org_mappings`) with a `MappingError`
naming the org, the entity and the key.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import yaml

from . import tables as T
from . import transforms as TR


class OrgMappings(Protocol):
    """What a mapping needs of an org: its id and its `mappings:` (inline, or a path to a YAML file)."""

    @property
    def id(self) -> str: ...

    @property
    def mappings(self) -> dict[str, Any] | str: ...


FieldCatalog = Callable[[str], Iterable[str]]
"""Entity name → the Rent Manager fields a mapping may read (the validation models know them)."""

CUSTOM_PREFIX = "custom."
_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[(\d+|primary|\*)\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[(\d+|primary)\])?)*$")
FIELD_KEYS = {"field", "transform", "required", "default"}
UDF_KEYS = {"target", "transform", "default"}


class MappingError(ValueError):
    """An org's mapping is invalid; the message names the org, the entity and the key."""


@dataclass(frozen=True)
class Rule:
    target: str  # column, or custom.<name>
    field: str | None  # Rent Manager field or path; None → default only
    transform: str
    required: bool = False
    default: Any = None
    kind: str = "text"
    sensitive: bool = False


@dataclass(frozen=True)
class UdfRule:
    parent_type: str
    name: str  # UDF name as in Rent Manager
    target: str  # column of the parent's EstateCore table
    transform: str
    default: Any = None
    kind: str = "text"
    sensitive: bool = False


@dataclass(frozen=True)
class TableMapping:
    table: str
    org_id: str | None
    rules: tuple[Rule, ...]
    udf_rules: tuple[UdfRule, ...]
    renames: tuple[tuple[str, str], ...]
    version: str

    def rule(self, target: str) -> Rule | None:
        for r in self.rules:
            if r.target == target:
                return r
        return None

    def udf_by_name(self) -> dict[str, UdfRule]:
        return {u.name: u for u in self.udf_rules}

    @property
    def sensitive_udf_names(self) -> set[str]:
        return {u.name for u in self.udf_rules if u.sensitive}

    def lineage(self) -> dict[str, list[str]]:
        """EstateCore column → the Rent Manager fields it is built from, as text: `Units.Bedrooms`,
        `Payments.Allocations[].Amount` (embedded rows), `UDF Unit 'BIN'`. For Dagster column lineage with the
        exact upstream asset keys use `lineage_deps()`."""
        spec = T.get(self.table)
        out: dict[str, list[str]] = {}
        for r in self.rules:
            if r.field:
                target = "custom" if r.target.startswith(CUSTOM_PREFIX) else r.target
                for source in spec.sources:
                    out.setdefault(target, []).append(f"{_resource(source)}.{r.field}")
        for u in self.udf_rules:
            out.setdefault(u.target, []).append(f"UDF {u.parent_type} '{u.name}'")
        if spec.kind == "derived" and self.table == "buildings":
            out = {"bin": ["UDF Unit 'BIN'"], "property_rm_id": ["Units.PropertyID"], "unit_count": ["Units.UnitID"],
                   "placed_in_service": ["UDF Property 'Placed In Service'"]}
        return out

    def lineage_deps(self) -> dict[str, list[tuple[list[str], str]]]:
        """EstateCore column → [(upstream asset key, Rent Manager field)], for Dagster column lineage
        (`TableColumnLineage({col: [TableColumnDep(AssetKey(key), field) …]})`)."""
        spec = T.get(self.table)
        udf_entity = {v: k for k, v in T.UDF_SOURCES.items()}
        out: dict[str, list[tuple[list[str], str]]] = {}
        for r in self.rules:
            if r.field:
                target = "custom" if r.target.startswith(CUSTOM_PREFIX) else r.target
                for source in spec.sources:
                    out.setdefault(target, []).append((["rentmanager", source], r.field))
        for u in self.udf_rules:
            out.setdefault(u.target, []).append((["rentmanager", udf_entity[u.parent_type]],
                                                 f"UserDefinedValues[Name='{u.name}'].Value"))
        if self.table == "buildings":
            out = {"bin": [(["estatecore", "units"], "bin")], "property_rm_id": [(["estatecore", "units"], "property_rm_id")],
                   "unit_count": [(["estatecore", "units"], "rm_id")],
                   "placed_in_service": [(["estatecore", "properties"], "placed_in_service")]}
        return out

    def describe(self) -> dict[str, Any]:
        return {"table": self.table, "org": self.org_id, "version": self.version,
                "renames": dict(self.renames), "rules": [asdict(r) for r in self.rules],
                "udfs": [asdict(u) for u in self.udf_rules]}


def _resource(entity_name: str) -> str:
    from ..rentmanager import catalog

    e = catalog.get(entity_name)
    return f"{e.path}.{e.explode}[]" if e.explode else e.path


def _default_rules(spec: T.TableSpec) -> list[Rule]:
    rules: list[Rule] = []
    if spec.kind != "derived":
        for col in (c for c in T.STANDARD_COLUMNS if c.name in T.MAPPED_STANDARD):
            if spec.kind == "udf" and col.name == "rm_created_at":
                continue
            rules.append(Rule(col.name, col.field, col.default_transform, False, None, col.kind, False))
    for col in spec.mapped_columns:
        if col.field is None:
            continue
        rules.append(Rule(col.name, col.field, col.default_transform, col.required, col.default, col.kind, col.sensitive))
    return rules


def _default_udf_rules(spec: T.TableSpec) -> list[UdfRule]:
    if not spec.udf_parent_type:
        return []
    return [UdfRule(spec.udf_parent_type, col.udf, col.name, col.default_transform, col.default, col.kind, col.sensitive)
            for col in spec.udf_columns if col.udf]


def _version(rules: list[Rule], udfs: list[UdfRule], renames: dict[str, str]) -> str:
    blob = json.dumps({"r": [asdict(r) for r in rules], "u": [asdict(u) for u in udfs], "n": renames},
                      sort_keys=True, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=6).hexdigest()


def default_mapping(table: str) -> TableMapping:
    """The built-in mapping of a table (no org overrides)."""
    spec = T.get(table)
    rules, udfs = _default_rules(spec), _default_udf_rules(spec)
    return TableMapping(table, None, tuple(rules), tuple(udfs), (), _version(rules, udfs, {}))


# ----------------------------------------------------------------------------------------------------------
# Org overrides


_cache: dict[tuple, dict[str, TableMapping]] = {}
_lock = threading.Lock()


def org_overrides(org: OrgMappings) -> dict[str, Any]:
    """The org's `mappings:` as a dict (reading the referenced YAML file when it is a path)."""
    raw = org.mappings
    if isinstance(raw, str):
        path = Path(raw)
        if not path.is_absolute():
            from ..settings import get_settings

            base = get_settings().orgs_file.parent
            path = (base / path) if (base / path).exists() else path.resolve()
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise MappingError(f"org {org.id!r}: mappings file {path} does not exist") from None
        except yaml.YAMLError as exc:
            raise MappingError(f"org {org.id!r}: mappings file {path} is not valid YAML: {exc}") from None
        if isinstance(data, dict) and set(data) == {"mappings"}:
            data = data["mappings"]
        raw = data
    if not isinstance(raw, dict):
        raise MappingError(f"org {org.id!r}: mappings must be a mapping of EstateCore tables (or a file path)")
    return raw


def mapping_for(org: OrgMappings | None, table: str, fields_of: FieldCatalog) -> TableMapping:
    """The compiled mapping of `table` for `org`: defaults plus the org's overrides."""
    if org is None:
        return default_mapping(table)
    return compile_org_mappings(org, fields_of)[table]


def validate_org_mappings(org: OrgMappings, fields_of: FieldCatalog) -> None:
    """Compile every table's mapping of the org; raises MappingError on the first problem."""
    compile_org_mappings(org, fields_of)


def compile_org_mappings(org: OrgMappings, fields_of: FieldCatalog) -> dict[str, TableMapping]:
    """Every table's mapping of the org; `fields_of` names the Rent Manager fields an override may read."""
    overrides = org_overrides(org)
    key = (org.id, json.dumps(overrides, sort_keys=True, default=str))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    compiled = _compile(org.id, overrides, fields_of)
    with _lock:
        _cache[key] = compiled
    return compiled


def _err(org_id: str, entity: str, table: str | None, key: str, msg: str) -> MappingError:
    where = f"entity {entity!r}" + (f" (EstateCore table {table!r})" if table and table != entity else "")
    return MappingError(f"org {org_id!r}, {where}, key {key!r}: {msg}")


def _check_transform(org_id: str, entity: str, table: str, key: str, name: Any, kind: str, target: str) -> None:
    if not isinstance(name, str) or name not in TR.REGISTRY:
        raise _err(org_id, entity, table, key,
                   f"unknown transform {name!r} (known: {', '.join(sorted(TR.REGISTRY))})")
    out = TR.REGISTRY[name].output
    if out not in TR.ACCEPTS[kind]:
        raise _err(org_id, entity, table, key,
                   f"type clash: transform {name!r} returns {out} but column {target!r} is {kind}")


def _check_default(org_id: str, entity: str, table: str, key: str, default: Any, kind: str, transform: str) -> None:
    if default is None:
        return
    # the default fills values that are missing after the transform: it must be a valid value of the column
    s = pd.Series([default], dtype=object)
    _, failed = TR.coerce_to_kind(s, kind, TR.Ctx())
    if bool(failed.iloc[0]):
        raise _err(org_id, entity, table, key, f"type clash: default {default!r} is not a valid {kind}")


def _compile(org_id: str, overrides: dict[str, Any], fields_of: FieldCatalog) -> dict[str, TableMapping]:
    from .sensitive import raw_sensitive_fields

    unknown = [k for k in overrides if k != "udfs" and k not in T.BY_NAME]
    if unknown:
        raise _err(org_id, str(unknown[0]), None, f"mappings.{unknown[0]}",
                   f"unknown EstateCore table (known: {', '.join(sorted(T.BY_NAME))}, udfs)")
    udf_over = overrides.get("udfs") or {}
    if not isinstance(udf_over, dict):
        raise _err(org_id, "udfs", None, "mappings.udfs", "must map UDF parent types to {UDF name: target}")
    for pt in udf_over:
        if pt not in T.PARENT_TYPES:
            raise _err(org_id, "udfs", None, f"mappings.udfs.{pt}",
                       f"unknown UDF parent type (known: {', '.join(T.PARENT_TYPES)})")
    out: dict[str, TableMapping] = {}
    for spec in T.TABLES:
        entity = spec.sources[0] if spec.sources else spec.name
        table_over = overrides.get(spec.name) or {}
        if not isinstance(table_over, dict):
            raise _err(org_id, entity, spec.name, f"mappings.{spec.name}", "must be a mapping with rename/fields")
        bad = set(table_over) - {"rename", "fields"}
        if bad:
            raise _err(org_id, entity, spec.name, f"mappings.{spec.name}.{sorted(bad)[0]}",
                       "unknown key (allowed: rename, fields)")
        if spec.kind == "derived" and table_over:
            raise _err(org_id, entity, spec.name, f"mappings.{spec.name}", "derived table: nothing to map")
        known = set().union(*(set(fields_of(s)) for s in spec.sources)) if spec.sources else set()
        renames = table_over.get("rename") or {}
        if not isinstance(renames, dict):
            raise _err(org_id, entity, spec.name, f"mappings.{spec.name}.rename", "must map Rent Manager field → field")
        for old, new in renames.items():
            k = f"mappings.{spec.name}.rename.{old}"
            if old not in known:
                raise _err(org_id, entity, spec.name, k, f"unknown Rent Manager field {old!r} of entity {entity!r}")
            if not isinstance(new, str) or not _PATH_RE.match(new):
                raise _err(org_id, entity, spec.name, k, f"{new!r} is not a field name")
        sensitive_raw = set().union(*(raw_sensitive_fields(s) for s in spec.sources)) if spec.sources else set()
        known |= sensitive_raw
        rules = {r.target: r for r in _default_rules(spec)}
        fields = table_over.get("fields") or {}
        if not isinstance(fields, dict):
            raise _err(org_id, entity, spec.name, f"mappings.{spec.name}.fields", "must map column → settings")
        for target, setting in fields.items():
            k = f"mappings.{spec.name}.fields.{target}"
            if not isinstance(target, str):
                raise _err(org_id, entity, spec.name, k, "column names are strings")
            if target.startswith(CUSTOM_PREFIX):
                if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", target[len(CUSTOM_PREFIX):]):
                    raise _err(org_id, entity, spec.name, k, "custom attribute names are identifiers")
                kind, sensitive, col_required = "json", False, False
            else:
                if target in T.STANDARD_NAMES and target not in T.MAPPED_STANDARD:
                    raise _err(org_id, entity, spec.name, k, f"{target!r} is managed by the loader")
                if not spec.has_column(target) and target not in T.MAPPED_STANDARD:
                    raise _err(org_id, entity, spec.name, k,
                               f"unknown column of {spec.name!r} (known: {', '.join(spec.column_names)}; "
                               f"or custom.<name>)")
                col = spec.column(target)
                if col.udf:
                    raise _err(org_id, entity, spec.name, k,
                               f"{target!r} is a UDF attribute: map it under mappings.udfs.{spec.udf_parent_type}")
                kind, sensitive, col_required = col.kind, col.sensitive, col.required
            if setting is None:
                if col_required:
                    raise _err(org_id, entity, spec.name, k, "a required column cannot be unmapped")
                rules.pop(target, None)
                continue
            if not isinstance(setting, dict):
                raise _err(org_id, entity, spec.name, k, "must be null or a mapping of field/transform/required/default")
            bad = set(setting) - FIELD_KEYS
            if bad:
                raise _err(org_id, entity, spec.name, f"{k}.{sorted(bad)[0]}",
                           f"unknown setting (allowed: {', '.join(sorted(FIELD_KEYS))})")
            base = rules.get(target)
            field = setting.get("field", base.field if base else None)
            transform = setting.get("transform") or (base.transform if base else T.DEFAULT_TRANSFORM[kind])
            required = setting.get("required", base.required if base else False)
            default = setting.get("default", base.default if base else None)
            if not isinstance(required, bool):
                raise _err(org_id, entity, spec.name, f"{k}.required", "must be true or false")
            if field is not None:
                if not isinstance(field, str) or not _PATH_RE.match(field):
                    raise _err(org_id, entity, spec.name, f"{k}.field", f"{field!r} is not a field name or path")
                root = re.split(r"[\[.]", field, maxsplit=1)[0]
                if root not in known and root not in renames.values():
                    raise _err(org_id, entity, spec.name, f"{k}.field",
                               f"unknown Rent Manager field {root!r} of entity {entity!r}")
                if root in sensitive_raw and not sensitive:
                    raise _err(org_id, entity, spec.name, f"{k}.field",
                               f"{root!r} is sensitive and would be stored in clear in {target!r}")
            elif default is None:
                raise _err(org_id, entity, spec.name, k, "needs a field or a default")
            _check_transform(org_id, entity, spec.name, f"{k}.transform", transform, kind, target)
            _check_default(org_id, entity, spec.name, f"{k}.default", default, kind, transform)
            rules[target] = Rule(target, field, transform, required, default, kind, sensitive)
        # Renamed source fields: every rule reading the old name reads the new one.
        final_rules: list[Rule] = []
        for r in rules.values():
            if r.field:
                root, rest = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(.*)$", r.field).groups()  # type: ignore[union-attr]
                if root in renames:
                    r = Rule(r.target, renames[root] + rest, r.transform, r.required, r.default, r.kind, r.sensitive)
            final_rules.append(r)
        udfs = {u.name: u for u in _default_udf_rules(spec)}
        if spec.udf_parent_type:
            pt = spec.udf_parent_type
            entity_u = f"{pt.lower()}_udfs" if pt != "Property" else "property_udfs"
            for name, setting in (udf_over.get(pt) or {}).items():
                k = f"mappings.udfs.{pt}.{name}"
                if setting is None:
                    udfs.pop(name, None)
                    continue
                if isinstance(setting, str):
                    setting = {"target": setting}
                if not isinstance(setting, dict):
                    raise _err(org_id, entity_u, spec.name, k, "must be a column name, null or {target, transform, default}")
                bad = set(setting) - UDF_KEYS
                if bad:
                    raise _err(org_id, entity_u, spec.name, f"{k}.{sorted(bad)[0]}",
                               f"unknown setting (allowed: {', '.join(sorted(UDF_KEYS))})")
                target = setting.get("target")
                if not isinstance(target, str) or not spec.has_column(target) or not spec.column(target).udf:
                    attrs = ", ".join(c.name for c in spec.udf_columns)
                    raise _err(org_id, entity_u, spec.name, f"{k}.target",
                               f"unknown typed attribute {target!r} of {spec.name!r} (known: {attrs})")
                col = spec.column(target)
                transform = setting.get("transform", col.default_transform)
                _check_transform(org_id, entity_u, spec.name, f"{k}.transform", transform, col.kind, target)
                default = setting.get("default", col.default)
                _check_default(org_id, entity_u, spec.name, f"{k}.default", default, col.kind, transform)
                # one UDF name per attribute: a new name for an attribute replaces the default name
                for other in [n for n, u in udfs.items() if u.target == target and n != name]:
                    if other == col.udf:
                        udfs.pop(other)
                udfs[name] = UdfRule(pt, name, target, transform, default, col.kind, col.sensitive)
        udf_list = list(udfs.values())
        out[spec.name] = TableMapping(spec.name, org_id, tuple(final_rules), tuple(udf_list),
                                      tuple(sorted(renames.items())), _version(final_rules, udf_list, renames))
    # The UDF parent types present in overrides must belong to a table with typed attributes.
    for pt in udf_over:
        if pt not in T.UDF_PARENT_TABLE:
            raise _err(org_id, "udfs", None, f"mappings.udfs.{pt}", "no EstateCore table takes this parent's UDFs")
    return out


def udf_rules_by_parent(org: OrgMappings | None, fields_of: FieldCatalog) -> dict[str, dict[str, UdfRule]]:
    """Parent type → {UDF name → rule} for the org."""
    return {pt: mapping_for(org, table, fields_of).udf_by_name() for pt, table in T.UDF_PARENT_TABLE.items()}


def udf_mapping_version(org: OrgMappings | None, fields_of: FieldCatalog) -> str:
    parts = [mapping_for(org, t, fields_of).version for t in sorted(T.UDF_PARENT_TABLE.values())]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=6).hexdigest()
