import dagster as dg

from flashmm_dagster.definitions import defs


def test_code_location_loads() -> None:
    dg.Definitions.validate_loadable(defs)
