"""What must hold after every step of the chaos run, whatever the faults.

- no order the engine does not know rests on the venue;
- the ledger's position is the venue's: the opening balance plus every distinct fill the venue emitted up
  to the event the ledger applied last, and the venue's own balance once every event is applied;
- no fill counted twice (the ledger's fill count is the number of distinct fills; the core's position is
  the ledger's trading position);
- every limit held: the position with every resting order of ours filled, the working-order count and
  the order size stay within the risk limits;
- HALTED never places an order (checked where the batch is built).
"""

from __future__ import annotations

from flashmm_engine.chaos.engine import EngineLife
from flashmm_engine.chaos.venue import ChaosVenue
from flashmm_engine.ledger.store import Holdings
from flashmm_engine.risk.limits import RiskLimits
from flashmm_engine.types import Fill, Side


class InvariantChecker:
    def __init__(self, venue: ChaosVenue, limits: RiskLimits) -> None:
        self.venue = venue
        self.limits = limits
        self._counted = 0
        self._seen: set[str] = set()
        self._traded = 0
        """Lots bought minus sold over the distinct fills in the log up to `_counted`."""

    def _advance_to(self, seq: int) -> None:
        log = self.venue.log
        while self._counted < seq:
            event = log[self._counted][1]
            self._counted += 1
            if isinstance(event, Fill) and event.fill_id not in self._seen:
                self._seen.add(event.fill_id)
                self._traded += event.side.sign * event.size

    def check(self, life: EngineLife) -> list[str]:
        """`life.holdings` are what the ledger returned from its last committed fill (or read at start)."""
        held = life.holdings
        if held is None:
            return []
        self._advance_to(life.applied_seq)
        out = self._ledger(held, life)
        if life.ready:
            out += self._engine(held, life)
        return out

    def _ledger(self, held: Holdings, life: EngineLife) -> list[str]:
        out = []
        book = held.book
        if book.trading_position != self._traded:
            out.append(
                f"ledger position {book.trading_position} (traded) != {self._traded} from the venue's "
                f"fills up to event {life.applied_seq}"
            )
        if held.fills != len(self._seen):
            out.append(f"ledger counts {held.fills} fills, the venue emitted {len(self._seen)} distinct ones")
        if life.applied_seq == self.venue.seq and book.position != self.venue.position():
            out.append(f"ledger position {book.position} != venue position {self.venue.position()}")
        return out

    def _engine(self, held: Holdings, life: EngineLife) -> list[str]:
        out = []
        core, lim = life.core, self.limits
        if core.position != held.book.trading_position:
            out.append(
                f"core position {core.position} != ledger trading position {held.book.trading_position}"
            )
        resting = self.venue.open_orders()
        for order in resting:
            if core.orders.get(order.client_id) is None:
                out.append(f"order {order.client_id} rests on the venue, unknown to the engine")
            if order.size > lim.max_order_lots:
                out.append(f"order {order.client_id} of {order.size} lots > max {lim.max_order_lots}")
        if len(resting) > lim.max_working_orders:
            out.append(f"{len(resting)} resting orders > max {lim.max_working_orders}")
        traded = self.venue.position() - held.book.opening_position
        if lim.max_position_lots is not None:
            for side in (Side.BUY, Side.SELL):
                open_lots = sum(o.size - o.filled for o in resting if o.side is side)
                worst = traded + side.sign * open_lots
                if abs(worst) > lim.max_position_lots and side.sign * worst > 0:
                    out.append(
                        f"worst-case position {worst} lots ({side.name} orders filled) > "
                        f"max {lim.max_position_lots}"
                    )
        return out
