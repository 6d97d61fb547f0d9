"""Moments of the demo's columns moved into working hours (windows from leadcore.rules.vectorised)."""
from __future__ import annotations

import numpy as np

from leadcore.demo.columns import MINUTE, SECOND


def into_working_hours(moments: np.ndarray, opens: np.ndarray, closes: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Moments outside working time moved to early in the next working window (whole seconds)."""
    if not len(opens) or not len(moments):
        return moments
    k = np.searchsorted(closes, moments, side="right")
    known = k < len(opens)
    k = np.minimum(k, len(opens) - 1)
    outside = known & (opens[k] > moments)
    offset = (rng.random(len(moments)) * np.minimum(90 * MINUTE, closes[k] - opens[k])).astype(np.int64)
    moved = opens[k] + offset - offset % SECOND
    return np.where(outside, moved, moments)
