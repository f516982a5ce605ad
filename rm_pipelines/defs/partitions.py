import dagster as dg

# One partition per organisation in the registry (kept equal to it by `org_registry_sensor`).
org_partitions = dg.DynamicPartitionsDefinition(name="org")
