"""Data quality: pandera models per Rent Manager entity (`models`), the vectorised page gate (`validate`) and
Great Expectations suites on the EstateCore tables (`gx_suites`, GX imported lazily)."""
