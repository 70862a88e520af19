"""DataFrames from query rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd


def rows_frame(rows: Iterable[Any], columns: list[str], dtype: Any = None) -> pd.DataFrame:
    """A DataFrame of ``rows`` (SQLAlchemy rows, or any sequences) with these ``columns``.

    The rows become plain tuples first: pandas probes every SQLAlchemy ``Row`` for the
    attributes of a named tuple, which costs more than the query (a city's 1.3 million
    located households: 7.8 s to build the frame from rows, 1.9 s from tuples).
    """
    return pd.DataFrame([tuple(r) for r in rows], columns=columns, dtype=dtype)
