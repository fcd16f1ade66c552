"""The numba decorator of the feed's compiled parts (batch scanner, order book).

Machine code is cached beside the source, so only the first run after a checkout or an edit compiles
(`python -m flashmm_engine.features.warm_up` compiles everything ahead of use).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])


def jit(function: F) -> F:
    """Compiled to machine code (integer code only: no float error model needed), cached beside the source."""
    return cast(F, njit(cache=True, nogil=True)(function))
