"""The Dagster code location. Assets, checks, sensors and schedules are added by role as they land."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions()
