"""Downloads of a result frame, as CSV and as Parquet, both safe to open in a spreadsheet.

A text that starts with =, +, -, @, a tab, CR or LF is run as a formula by Excel, LibreOffice
and Google Sheets when it is opened (CSV) or imported (Parquet through Power Query or a sheet's
import), so such a text gets a leading single quote. That holds for the column names too: the
SQL box lets an analyst name a column `"=HYPERLINK(...)"`, and a header is a cell like any other.

Parquet gets the same neutralised texts and names as CSV, by choice: the file is a download for
people (who open it in a spreadsheet or hand it on), not a machine-to-machine copy of the data,
and a text that reads '=... in Parquet is still the same words. Numbers, dates and missing values
stay typed and untouched in both.
"""
from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["FORMULA_STARTS", "neutral_text", "neutralise", "to_csv", "to_parquet"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutral_text(value):
    """A text a spreadsheet would run as a formula, with a leading quote; anything else as is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells and column names a spreadsheet would run as a formula get a leading single
    quote; numbers, dates and missing values stay as they are."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        if column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS)).any():
            out[name] = column.map(neutral_text).astype(object)
    out.columns = _neutral_names([str(name) for name in out.columns])
    return out


def _neutral_names(names: list[str]) -> list[str]:
    """Neutralised column names, kept unique: "=x" must not become a second "'=x" (Parquet
    refuses duplicate names, and a reader could not tell the columns apart)."""
    taken: set[str] = set(names)
    out = []
    for name in names:
        neutral = neutral_text(name)
        if neutral != name:
            base, n = neutral, 2
            while neutral in taken:
                neutral, n = f"{base}_{n}", n + 1
            taken.add(neutral)
        out.append(neutral)
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
    """Parquet of the neutralised frame (see the module's note on why Parquet is neutralised)."""
    neutral = neutralise(frame)
    try:
        table = pa.Table.from_pandas(neutral, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types in one column (possible from the SQL box): write those columns as text.
        mixed = {n: neutral[n].map(lambda v: None if v is None or v is pd.NA else str(v))
                 for n in neutral.columns if neutral[n].dtype == object}
        table = pa.Table.from_pandas(neutral.assign(**mixed), preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
