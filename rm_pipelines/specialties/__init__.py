"""Specialised products over the EstateCore tables: student housing, commercial (CAM, percentage rent, tenant
improvements), HOA (assessments, delinquency, violations, board) and asset management.

Pure rule code: no Dagster, no database. Money is integer cents (exact), rates are `Decimal`; every rule's
docstring states its rule and its rounding. `inputs.build_inputs` turns EstateCore rows into the rules' inputs;
`rm_pipelines.flows.specialties` reads the tables, runs the rules and stores the results.
"""
