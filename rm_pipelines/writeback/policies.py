"""What a write does after Rent Manager said 409 (the record changed since EstateCore read it), field by field.

For each field EstateCore wants written, with `base` (its value when EstateCore read it), `ours` (the value
EstateCore wants) and `theirs` (its value in Rent Manager now, re-read after the 409):

- theirs == ours: nothing to write (already so);
- theirs == base: only EstateCore changed it: write ours (merged onto the fresh record);
- otherwise both changed it, and the org's policy for the field decides:
  `rm_wins` keeps theirs, `estatecore_wins` writes ours, `newest_wins` keeps the later change (ours is dated
  when it was requested, theirs by the record's UpdateDate; a tie keeps theirs), `manual` writes nothing and
  records a conflict for a person to resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Policy = Literal["rm_wins", "estatecore_wins", "newest_wins", "manual"]
POLICIES: tuple[str, ...] = ("rm_wins", "estatecore_wins", "newest_wins", "manual")


@dataclass(frozen=True)
class FieldConflict:
    """A field both sides changed, left for a person (`manual`)."""

    field: str
    base: Any
    ours: Any
    theirs: Any


@dataclass
class Resolution:
    """The outcome for one record: what to write now, what was given up, what waits for a person."""

    write: dict[str, Any] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    """Fields Rent Manager already holds as EstateCore wants them."""
    kept_theirs: dict[str, str] = field(default_factory=dict)
    """Field → the policy that kept Rent Manager's value."""
    overrode: dict[str, str] = field(default_factory=dict)
    """Field → the policy that writes EstateCore's value over a change made in Rent Manager."""
    conflicts: list[FieldConflict] = field(default_factory=list)


def same(a: Any, b: Any) -> bool:
    """Values equal as Rent Manager means them (a UDF value is text: None and "" are the same empty value)."""
    if a in (None, "") and b in (None, ""):
        return True
    return a == b


def resolve(ours: dict[str, Any], base: dict[str, Any], theirs: dict[str, Any], *,
            policy: Callable[[str], Policy], ours_at: datetime, theirs_at: datetime | None) -> Resolution:
    """Decide every field of one write after a 409 (see the module docstring)."""
    out = Resolution()
    for name, value in ours.items():
        current = theirs.get(name)
        if same(current, value):
            out.already.append(name)
            continue
        if same(current, base.get(name)):
            out.write[name] = value
            continue
        rule = policy(name)
        if rule == "estatecore_wins" or (rule == "newest_wins" and theirs_at is not None and ours_at > theirs_at):
            out.write[name] = value
            out.overrode[name] = rule
        elif rule in ("rm_wins", "newest_wins"):
            out.kept_theirs[name] = rule
        else:
            out.conflicts.append(FieldConflict(name, base.get(name), value, current))
    return out
