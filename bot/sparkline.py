"""A row of values as block characters (▁▂▃▄▅▆▇█): a chart that fits in a line of chat text.

Every platform shows it the same way; only how many values fit differs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], *, limit: int | None = None) -> str:
    """The last ``limit`` values scaled from their minimum to their maximum.

    Non-finite values are dropped: they cannot be placed on a scale and must not break a
    message. A flat series is drawn at half height, so it reads as "steady", not as "nothing".
    """
    finite = [value for value in values if math.isfinite(value)]
    if limit is not None:
        finite = finite[-limit:]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    if high == low:
        return BARS[len(BARS) // 2 - 1] * len(finite)
    steps = len(BARS) - 1
    return "".join(BARS[round((value - low) / (high - low) * steps)] for value in finite)
