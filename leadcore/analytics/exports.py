"""Downloads of a result frame: CSV a spreadsheet opens safely (formula text neutralised) and
Parquet."""
from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["FORMULA_STARTS", "neutralise", "to_csv", "to_parquet"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading single quote; numbers,
    dates and missing values stay as they are."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        if column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS)).any():
            out[name] = column.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS)
                                   else v).astype(object)
    return out


# A German spreadsheet program splits CSV at ";" and reads "1,5" as a number: German CSV is
# written that way, English stays comma-separated with a decimal point.
_CSV_DIALECTS = {"de": {"sep": ";", "decimal": ","}}


def to_csv(frame: pd.DataFrame, language: str = "en") -> bytes:
    """CSV as RFC 4180 has it (CRLF line ends, so a cell holding a CR or LF is quoted), in UTF-8
    with a byte-order mark so spreadsheet programs read umlauts right."""
    dialect = _CSV_DIALECTS.get(language, {})
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n", **dialect).encode("utf-8-sig")


def to_parquet(frame: pd.DataFrame) -> bytes:
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types in one column (possible from the SQL box): write those columns as text.
        mixed = {n: frame[n].map(lambda v: None if v is None or v is pd.NA else str(v))
                 for n in frame.columns if frame[n].dtype == object}
        table = pa.Table.from_pandas(frame.assign(**mixed), preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
