"""Sensors: keep the `org` partition set equal to the organisation registry."""


import dagster as dg

from .partitions import org_partitions
from .resources import RentManagerResource


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def org_registry_sensor(context: dg.SensorEvaluationContext, rentmanager: RentManagerResource) -> dg.SensorResult | dg.SkipReason:
    """Adds partitions for new orgs and removes those of orgs that left the registry."""
    wanted = set(rentmanager.registry().ids)
    current = set(context.instance.get_dynamic_partitions(org_partitions.name))
    requests = []
    if wanted - current:
        requests.append(org_partitions.build_add_request(sorted(wanted - current)))
    if current - wanted:
        requests.append(org_partitions.build_delete_request(sorted(current - wanted)))
    if not requests:
        return dg.SkipReason(f"org partitions already match the registry ({len(wanted)} orgs)")
    return dg.SensorResult(dynamic_partitions_requests=requests)
