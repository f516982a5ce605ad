"""Tenant data export for the state agency's annual HUD LIHTC tenant data collection (HERA; §7.3): every
household in an occupied LIHTC unit on the year's evaluation, with its members — XML validated against the
XSD shipped with the templates (`tenant_data.xsd`) before anything is written, and the same rows as CSV (one
line per member).

Race, ethnicity and disability are not kept in Rent Manager: they are `xsi:nil` in the XML and empty in
the CSV, and counted as blanks. A record the schema refuses fails the export with its household and field.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from .period import Period
from .sources import Sources

KIND = "tenant_data"
NS = "urn:rm-pipelines:lihtc-tenant-data:1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RELATIONSHIP = {"head": "H", "spouse": "S", "co-head": "A", "child": "C", "other adult": "O", "live-in aide": "L",
                "foster": "F", "dependent": "C"}
CSV_COLUMNS = ("household_id", "property", "bin", "unit", "bedrooms", "household_size", "annual_income",
               "rental_assistance", "rental_assistance_amount", "monthly_tenant_rent", "member_number", "last_name",
               "first_name", "relationship", "age", "race", "ethnicity", "disabled", "full_time_student", "ssn_last4")
NOT_IN_RENT_MANAGER = ("race", "ethnicity", "disabled")


class ExportError(ValueError):
    """A tenant data record the schema refuses (names the household and the field)."""


@dataclass
class TenantExport:
    org_id: str
    year: int
    evaluation: Any
    households: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scope_key(self) -> str:
        return self.org_id

    @property
    def blanks(self) -> list[dict[str, Any]]:
        return [{"label": f"{name} of each member", "line": "HERA", "note": "not in Rent Manager data: attach"}
                for name in NOT_IN_RENT_MANAGER] if self.households else []


def build(sources: Sources, period: Period, property_id: str | None = None) -> list[TenantExport]:
    export = TenantExport(sources.org_id, period.start.year, sources.evaluation)
    for u in sources.snapshot("unit_status"):
        if not u.get("occupied") or "lihtc" not in (u.get("programs") or "").split("+"):
            continue
        if property_id and u["property_id"] != property_id:
            continue
        members = []
        for i, m in enumerate(sources.members(u["household_id"]), start=1):
            rel = (m.get("relationship") or "").lower()
            members.append({
                "number": i, "last_name": m.get("last_name") or "", "first_name": m.get("first_name") or "",
                "relationship": RELATIONSHIP.get(rel, "O" if rel else "N"),
                "age": m.get("age"), "race": None, "ethnicity": None, "disabled": None,
                "full_time_student": (m.get("student_status") or "").lower().startswith("full"),
                "ssn_last4": m.get("ssn_last4") or None,
            })
        subsidy = u.get("subsidy")
        export.households.append({
            "household_id": u["household_id"], "property": sources.property_label(u["property_id"]),
            "bin": u.get("bin"), "unit": u["unit_number"], "bedrooms": u.get("bedrooms"),
            "household_size": u.get("household_size"), "annual_income": u.get("annual_income"),
            "rental_assistance": None if subsidy is None else subsidy > 0, "rental_assistance_amount": subsidy,
            "monthly_tenant_rent": u.get("tenant_rent"), "members": members,
        })
    export.households.sort(key=lambda h: (h["property"], h["bin"] or "", h["unit"], h["household_id"]))
    return [export]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):f}" if value == value.quantize(Decimal("0.01")) else f"{value:f}"
    return str(value)


@lru_cache(maxsize=2)
def _schema(path: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(path))


def schema_path() -> Path:
    from .render import templates_dir

    return templates_dir() / "tenant_data.xsd"


def to_xml(export: TenantExport) -> bytes:
    """The export as XML, validated against the XSD; an invalid record raises :class:`ExportError`."""
    from lxml import etree

    q = lambda name: f"{{{NS}}}{name}"
    root = etree.Element(q("TenantData"), nsmap={None: NS, "xsi": XSI}, org=export.org_id, year=str(export.year),
                         asOf=export.evaluation.as_of.isoformat(), evaluationId=str(export.evaluation.id))

    def child(parent, name: str, value: Any) -> None:
        el = etree.SubElement(parent, q(name))
        text = _text(value)
        if text is None:
            el.set(f"{{{XSI}}}nil", "true")
        else:
            el.text = text

    for h in export.households:
        attrs = {"id": h["household_id"], "property": h["property"], "unit": h["unit"]}
        if h["bin"]:
            attrs["bin"] = h["bin"]
        he = etree.SubElement(root, q("Household"), **attrs)
        for name, key in (("Bedrooms", "bedrooms"), ("HouseholdSize", "household_size"),
                          ("AnnualIncome", "annual_income"), ("RentalAssistance", "rental_assistance"),
                          ("RentalAssistanceAmount", "rental_assistance_amount"),
                          ("MonthlyTenantRent", "monthly_tenant_rent")):
            child(he, name, h[key])
        for m in h["members"]:
            me = etree.SubElement(he, q("Member"), number=str(m["number"]))
            for name, key in (("LastName", "last_name"), ("FirstName", "first_name"), ("Relationship", "relationship"),
                              ("Age", "age"), ("Race", "race"), ("Ethnicity", "ethnicity"), ("Disabled", "disabled"),
                              ("FullTimeStudent", "full_time_student"), ("SSNLast4", "ssn_last4")):
                child(me, name, m[key])
    schema = _schema(str(schema_path()))
    if not schema.validate(root):
        raise ExportError(_explain(root, schema.error_log))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _explain(root, log) -> str:
    problems = []
    for error in log:
        found = root.getroottree().xpath(error.path) if error.path else []
        element = found[0] if found else None
        household = element
        while household is not None and not str(household.tag).endswith("Household"):
            household = household.getparent()
        field_name = str(element.tag).split("}")[-1] if element is not None else "?"
        member = element.getparent() if element is not None and str(element.getparent().tag).endswith("Member") else None
        where = (f"household {household.get('id')} ({household.get('property')} unit {household.get('unit')})"
                 if household is not None else "tenant data")
        who = f" member {member.get('number')}" if member is not None else ""
        problems.append(f"{where}{who}: field {field_name}: {error.message}")
    return "tenant data refused by tenant_data.xsd: " + "; ".join(problems)


def to_csv(export: TenantExport) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for h in export.households:
        for m in h["members"] or [{}]:
            writer.writerow([_text(v) or "" for v in (
                h["household_id"], h["property"], h["bin"], h["unit"], h["bedrooms"], h["household_size"],
                h["annual_income"], h["rental_assistance"], h["rental_assistance_amount"], h["monthly_tenant_rent"],
                m.get("number"), m.get("last_name"), m.get("first_name"), m.get("relationship"), m.get("age"),
                m.get("race"), m.get("ethnicity"), m.get("disabled"), m.get("full_time_student"), m.get("ssn_last4"))])
    return buf.getvalue().encode()


def serialize(export: TenantExport) -> dict[str, tuple[str, bytes]]:
    """{extension: (media type, bytes)}: the XML (validated first: a refused record raises before anything is
    written) and the CSV."""
    xml = to_xml(export)
    return {"xml": ("application/xml", xml), "csv": ("text/csv", to_csv(export))}
