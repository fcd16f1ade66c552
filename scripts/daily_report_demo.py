"""A daily report on real recorded market data with a demonstration ledger day (see reports/demo.py):

    FLASHMM_HOME=/tmp/demo python scripts/daily_report_demo.py PIPELINE_ROOT 2024-08-08

PIPELINE_ROOT holds the day's stored events (the `market_events` asset's output). Prints the HTML path.
"""

import sys
from datetime import datetime
from pathlib import Path

from flashmm_engine.config.settings import load_settings
from flashmm_engine.pipeline.layout import Layout
from flashmm_engine.pipeline.store import read_events
from flashmm_engine.reports.daily import build_daily_report
from flashmm_engine.reports.demo import record_demo_fills

EVERY_NTH_TRADE = 25
FEE_UNITS = 2_000_000


def main() -> None:
    layout = Layout(Path(sys.argv[1]))
    day = datetime.strptime(sys.argv[2], "%Y-%m-%d")
    settings = load_settings()
    url = settings.database.resolved_url
    for market_dir in sorted((layout.root / "events").iterdir()):
        for hour_dir in sorted(market_dir.iterdir()):
            tables = read_events(hour_dir)
            if tables is not None:
                record_demo_fills(url, tables, EVERY_NTH_TRADE, FEE_UNITS)
    report = build_daily_report(layout, url, settings.pipeline.model_name, day)
    print(report.html_path)


if __name__ == "__main__":
    main()
