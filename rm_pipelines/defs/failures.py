"""What a person needs to read from a failed Dagster step or run."""

from __future__ import annotations

from typing import Any


def failure_cause(error: Any) -> str:
    """The message a person needs from a step failure: a Failure's own description, or the innermost cause
    (not Dagster's generic "Error occurred while executing op")."""
    deepest = error
    while getattr(deepest, "cause", None) is not None:
        deepest = deepest.cause
    message = (deepest.message or "").strip()
    if deepest.cls_name == "Failure" or deepest is error:
        return message.removeprefix("dagster._core.definitions.events.Failure: ")
    return message
