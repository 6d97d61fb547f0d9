"""Whole columns for the demo generator: instants as int64 microseconds since the epoch (UTC),
and numpy arrays turned into Arrow arrays."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
SECOND, MINUTE, HOUR, DAY = _US, 60 * _US, 3600 * _US, 86_400 * _US
TIMESTAMP = pa.timestamp("us", tz="UTC")


def us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def td_us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def weights(values) -> np.ndarray:
    """Probabilities proportional to values (for rng.choice's p)."""
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def ts(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, type=TIMESTAMP, mask=null)


def take(pool: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(pool, type=pa.string()).take(pa.array(index, type=pa.int64()))


def str_ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, type=pa.int64()), pa.string())


def ceil_to(values: np.ndarray, step: int) -> np.ndarray:
    return -(-values // step) * step
