"""Compile the feed's machine code ahead of use (the batch scanner and the order book).

Called by `flashmm_engine.features.warm_up`, which `make install`, `make pytest` and the engine's start run:
a tiny capture through the batch path and a few updates through the live path's book calls.
"""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.marketdata.columns import ColumnSink
from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.binance.batch import BatchParser
from flashmm_engine.venues.binance.processor import FeedProcessor

SPEC = MarketSpec("WARMUSDT", Decimal("0.01"), Decimal("0.001"))
STAMP = 1_723_161_254_024_000_000
LINES = (
    b'{"lastUpdateId":100,"E":1723161254000,"T":1723161254000,'
    b'"bids":[["2000.00","1.000"]],"asks":[["2000.10","1.000"]]}',
    b'{"stream":"warmusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161254024,"T":1723161254020,'
    b'"s":"WARMUSDT","U":100,"u":101,"pu":99,"b":[["2000.00","2.000"],["1999.90","0.000"]],'
    b'"a":[["2000.20","1.000"]]}}',
    b'{"stream":"warmusdt@bookTicker","data":{"e":"bookTicker","u":101,"s":"WARMUSDT","b":"2000.00",'
    b'"B":"2.000","a":"2000.10","A":"1.000","T":1723161254020,"E":1723161254024}}',
    b'{"stream":"warmusdt@trade","data":{"e":"trade","E":1723161254024,"T":1723161254020,"s":"WARMUSDT",'
    b'"t":7,"p":"2000.10","q":"0.500","X":"MARKET","m":false}}',
)


def warm_feed() -> None:
    text = b"".join(b"%d %s\n" % (STAMP + k, line) for k, line in enumerate(LINES))
    processor = FeedProcessor("usdm", SPEC, SPEC.symbol, ColumnSink("warm-up"))
    processor.on_batch(BatchParser("usdm", SPEC, SPEC.symbol, "depth@0ms").parse(text))
    processor.on_lines(text.splitlines())  # the live path's list-based book updates
    book = processor.book
    book.set_level(1, 1_999_00, 0)
    book.best_bid()
    book.best_ask()
    book.is_crossed()
