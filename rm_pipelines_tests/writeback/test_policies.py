"""The conflict policies, field by field (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rm_pipelines.writeback.policies import resolve

T0 = datetime(2026, 11, 16, 12, tzinfo=UTC)


def _resolve(policy, ours_at=T0, theirs_at=T0 + timedelta(minutes=5), **theirs):
    return resolve({"Title": "ours", "Note": "new note", "Same": "x"}, {"Title": "base", "Note": "old", "Same": "old"},
                   {"Title": "base", "Note": "old", "Same": "x", **theirs},
                   policy=lambda field: policy, ours_at=ours_at, theirs_at=theirs_at)


def test_only_fields_both_sides_changed_go_to_the_policy():
    out = _resolve("manual")
    assert out.write == {"Title": "ours", "Note": "new note"} and out.already == ["Same"] and not out.conflicts


def test_each_policy_on_a_field_both_changed():
    assert _resolve("rm_wins", Title="theirs").kept_theirs == {"Title": "rm_wins"}
    assert _resolve("rm_wins", Title="theirs").write == {"Note": "new note"}
    assert _resolve("estatecore_wins", Title="theirs").write["Title"] == "ours"
    assert _resolve("estatecore_wins", Title="theirs").overrode == {"Title": "estatecore_wins"}
    assert "Title" not in _resolve("newest_wins", Title="theirs").write  # theirs is later
    assert _resolve("newest_wins", ours_at=T0 + timedelta(hours=1), Title="theirs").write["Title"] == "ours"
    assert "Title" not in _resolve("newest_wins", theirs_at=T0, Title="theirs").write  # a tie keeps theirs
    manual = _resolve("manual", Title="theirs")
    assert [(c.field, c.base, c.ours, c.theirs) for c in manual.conflicts] == [("Title", "base", "ours", "theirs")]
    assert "Title" not in manual.write


def test_an_empty_udf_value_is_the_same_as_none():
    out = resolve({"Compliance Status": "In compliance"}, {"Compliance Status": None}, {"Compliance Status": ""},
                  policy=lambda f: "manual", ours_at=T0, theirs_at=None)
    assert out.write == {"Compliance Status": "In compliance"} and not out.conflicts
