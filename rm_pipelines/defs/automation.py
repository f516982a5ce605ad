"""Automation and freshness, in one place for every asset (each asset module passes its specs through
`with_policies`).

- Downstream assets follow their parents: the EstateCore tables and the compliance evaluation carry
  `AutomationCondition.eager()`, so a targeted or partial extraction (a webhook run, one entity) updates exactly
  what depends on it; the `pipeline_automation` sensor that evaluates them runs by default. The sync job still
  runs extraction, load and compliance together; eager only adds what that job did not cover.
- Freshness: raw and EstateCore tables warn after `WARN` and fail after `FAIL` without a materialization (the
  default hourly incremental sync keeps them well inside), so the UI shows staleness per asset.
"""

from datetime import timedelta

import dagster as dg

WARN, FAIL = timedelta(hours=2), timedelta(hours=6)
EAGER_PREFIXES = ("estatecore", "compliance")
FRESH_PREFIXES = ("rentmanager", "estatecore")


def with_policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with the pipeline's automation condition and freshness policy for its layer."""
    prefix = spec.key.path[0]
    changes: dict = {}
    if prefix in EAGER_PREFIXES and spec.automation_condition is None:
        changes["automation_condition"] = dg.AutomationCondition.eager()
    if prefix in FRESH_PREFIXES and spec.freshness_policy is None:
        changes["freshness_policy"] = dg.FreshnessPolicy.time_window(fail_window=FAIL, warn_window=WARN)
    return spec.replace_attributes(**changes) if changes else spec


pipeline_automation = dg.AutomationConditionSensorDefinition(
    "pipeline_automation",
    target=dg.AssetSelection.key_prefixes(*[[p] for p in EAGER_PREFIXES], ["ops"]),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Evaluates the automation conditions of the EstateCore, compliance and operations assets: "
                "downstream tables follow their parents, the health asset refreshes every 30 minutes.",
)
