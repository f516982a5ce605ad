-- Two databases on the one PostgreSQL server: Dagster's storage and the EstateCore warehouse.
CREATE DATABASE dagster;
CREATE DATABASE estatecore;
