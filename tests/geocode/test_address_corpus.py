"""The parser on the hand-labelled corpus of real addresses (data/addresses): the figures hold."""

from __future__ import annotations

import pytest

from benchmarks.address_corpus import COMPONENTS, calibration_table, evaluate, load


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return evaluate(load())


def test_corpus_is_large_enough_and_sourced() -> None:
    rows = load()
    assert len(rows) >= 500
    assert all(row["source"] and row["expected"] for row in rows)
    assert len({row["address"] for row in rows}) == len(rows)


def test_every_component_is_at_least_90_percent(report) -> None:  # type: ignore[no-untyped-def]
    low = {k: round(report.accuracy(k), 3) for k in COMPONENTS if report.accuracy(k) < 0.90}
    assert not low, low
    assert report.overall >= 0.95


def test_no_administrative_name_is_invented(report) -> None:  # type: ignore[no-untyped-def]
    assert report.invented == []


def test_no_text_is_dropped(report) -> None:  # type: ignore[no-untyped-def]
    assert report.dropped == []


def test_calibration_table() -> None:
    rows = calibration_table([0.55, 0.65, 0.92, 0.97, 0.99], [False, True, True, True, True],
                             bands=(0.0, 0.6, 0.9, 1.0001))
    assert rows == [("0.00–0.60", 1, 0, 1, 0.0), ("0.60–0.90", 1, 1, 0, 1.0),
                    ("0.90–1.00", 3, 3, 0, 1.0)]
