"""Benchmark: the address parser on a hand-labelled corpus of real-form addresses; score calibration.

Usage:
    .venv/bin/python benchmarks/address_corpus.py [--corpus data/addresses/corpus.jsonl] [--errors 20]
    .venv/bin/python benchmarks/address_corpus.py --calibrate [--seed 2026] [--households 130000]

The corpus (``data/addresses/corpus.jsonl``, sources and labelling rules in its README) holds one
address a line with the components a person wrote down for it. For every component this prints
the accuracy over all addresses (the parse and the label agree, absent on both sides counting as
agreement) and over the addresses where the label has it (recall), the administrative names the
parser *invented* (a province, city, district or street in the parse whose text is not in the
address) and the addresses where some text was dropped (a character of the normalised address in
no component and not in ``rest``).

``--calibrate`` matches the demo register (whose generator knows each household's building) and
prints precision by score band: matched, right, wrong, precision, and for each candidate
threshold how many wrong matches would be trusted (silent) and how many right ones go to review.
"""

from __future__ import annotations

import argparse
import json
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wangge.geocode.normalize import normalize
from wangge.geocode.parse import ParsedAddress, parse

CORPUS = Path(__file__).resolve().parent.parent / "data" / "addresses" / "corpus.jsonl"

# Label key -> how to read it from a parse.
COMPONENTS = ("province", "city", "district", "street", "community", "village", "group", "road",
              "door", "compound", "building", "unit", "floor", "room")
ADMIN = ("province", "city", "district", "street")


def parsed_value(parsed: ParsedAddress, key: str) -> str | None:
    """The parse's value for a label key (``door`` is a road's door or a village house number)."""
    if key == "door":
        return parsed.road_number or parsed.house_number
    if key == "floor":
        return getattr(parsed, "written_floor", None)
    value = getattr(parsed, key, None)
    return None if value is None else str(value)


def canon(value: str | None) -> str | None:
    """How a label and a parse are compared: normalised, upper-case, without leading zeros."""
    if value is None or value == "":
        return None
    text = normalize(value).upper()
    return text.lstrip("0") or text if text.isdigit() else text


@dataclass
class Report:
    """Per-component counts over a corpus."""

    total: int = 0
    agree: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    labelled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    invented: list[tuple[str, str, str]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    seconds: float = 0.0

    def accuracy(self, key: str) -> float:
        return self.agree[key] / self.total if self.total else 1.0

    def recall(self, key: str) -> float:
        return self.found[key] / self.labelled[key] if self.labelled[key] else 1.0

    @property
    def overall(self) -> float:
        """Share of (address, labelled component) pairs the parse got right."""
        labelled = sum(self.labelled.values())
        return sum(self.found.values()) / labelled if labelled else 1.0


def load(path: Path = CORPUS) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# Notation the parser reads rather than keeps: level and numbering words, separators.
_NOTATION = frozenset("号栋幢座楼单元门层室房户组村#F")


def _dropped(parsed: ParsedAddress) -> str:
    """Characters of the normalised address that no component and no rest piece holds."""
    fields = getattr(parsed, "TEXT_FIELDS", None) or [
        f for f in parsed.__dataclass_fields__ if f != "normalized"]
    kept = "".join(str(getattr(parsed, f)) for f in fields
                   if getattr(parsed, f) is not None) + "".join(getattr(parsed, "rest", ()))
    pool: dict[str, int] = {}
    for ch in kept:
        pool[ch] = pool.get(ch, 0) + 1
    lost = []
    for ch in parsed.normalized:
        if pool.get(ch, 0) > 0:
            pool[ch] -= 1
        elif ch.isalnum() and ch not in _NOTATION:
            lost.append(ch)
    return "".join(lost)


def evaluate(rows: Iterable[dict[str, object]]) -> Report:
    """Parse every address of the corpus and compare with its labels."""
    report = Report()
    t = time.perf_counter()
    for row in rows:
        address = str(row["address"])
        expected = {k: canon(str(v)) for k, v in dict(row["expected"]).items()}  # type: ignore[call-overload]
        parsed = parse(address)
        report.total += 1
        raw = unicodedata.normalize("NFKC", address).upper()
        for key in COMPONENTS:
            want, got = expected.get(key), canon(parsed_value(parsed, key))
            if want is not None:
                report.labelled[key] += 1
                report.found[key] += want == got
            if want == got:
                report.agree[key] += 1
            else:
                report.errors.append((address, key, want, got))
        for key in ADMIN:
            got = parsed_value(parsed, key)
            if got is not None and normalize(got) not in raw:
                report.invented.append((address, key, got))
        lost = _dropped(parsed)
        if lost:
            report.dropped.append((address, lost))
    report.seconds = time.perf_counter() - t
    return report


def print_report(report: Report, errors: int = 0) -> None:
    print(f"{report.total} addresses parsed in {report.seconds * 1000:.0f} ms")
    print(f"{'component':10s} {'accuracy':>9s} {'labelled':>9s} {'recall':>8s}")
    for key in COMPONENTS:
        print(f"{key:10s} {100 * report.accuracy(key):8.1f} % {report.labelled[key]:9d} "
              f"{100 * report.recall(key):6.1f} %")
    print(f"all labelled components: {100 * report.overall:.1f} %")
    print(f"invented administrative names: {len(report.invented)}")
    for address, key, name in report.invented[:10]:
        print(f"  {key} {name!r} in {address}")
    print(f"addresses with text dropped: {len(report.dropped)}")
    for address, lost in report.dropped[:10]:
        print(f"  {lost!r} of {address}")
    if errors:
        print(f"\nfirst {errors} disagreements (component: label / parse):")
        for address, key, want, got in report.errors[:errors]:
            print(f"  {key:9s} {want!s:14s} / {got!s:14s} {address}")


# --- calibration ------------------------------------------------------------------------------

BANDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0001)


def calibration_table(scores: Sequence[float], right: Sequence[bool],
                      bands: Sequence[float] = BANDS) -> list[tuple[str, int, int, int, float]]:
    """(band, matched, right, wrong, precision) for each score band [lo, hi)."""
    rows = []
    for lo, hi in zip(bands[:-1], bands[1:], strict=True):
        sel = [r for s, r in zip(scores, right, strict=True) if lo <= s < hi]
        n, ok = len(sel), sum(sel)
        label = f"{lo:.2f}–{min(hi, 1.0):.2f}"
        rows.append((label, n, ok, n - ok, ok / n if n else float("nan")))
    return rows


def calibrate(seed: int, households: int) -> None:
    from wangge.demo.district import build_demo
    from wangge.demo.register import build_register
    from wangge.geocode.gazetteer import Gazetteer
    from wangge.geocode.match import MatchConfig, Matcher
    from wangge.settings import Settings

    register = build_register(build_demo(seed=seed), seed=seed, n_households=households)
    gazetteer = Gazetteer(register.compounds, register.buildings)
    threshold_in_use = Settings(_env_file=None).geocode_trusted_score  # type: ignore[call-arg]
    result = Matcher(gazetteer, MatchConfig(trusted_score=threshold_in_use)).match_many(
        register.households["address"].tolist())
    truth = register.truth["building_id"].to_numpy()
    got = result["building_id"].to_numpy()
    placed = (result["building_id"].notna() & register.truth["building_id"].notna()).to_numpy()
    scores = result["score"].to_numpy()[placed]
    right = (got == truth)[placed]
    print(f"demo register: {households} households, {int(placed.sum())} matched to a building")
    print(f"{'band':11s} {'matched':>8s} {'right':>8s} {'wrong':>6s} {'precision':>10s}")
    for label, n, ok, bad, precision in calibration_table(scores.tolist(), right.tolist()):
        print(f"{label:11s} {n:8d} {ok:8d} {bad:6d} {100 * precision:9.2f} %")
    print(f"\n{'threshold':>9s} {'silent wrong':>13s} {'right to review':>16s}")
    for threshold in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
        trusted = scores >= threshold
        print(f"{threshold:9.2f} {int((trusted & ~right).sum()):13d} "
              f"{int((~trusted & right).sum()):16d}")
    worst = float(scores[~right].max()) if (~right).any() else float("nan")
    print(f"highest score of a wrong building: {worst:.4f}; "
          f"threshold in use (WANGGE_GEOCODE_TRUSTED_SCORE): {threshold_in_use}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--errors", type=int, default=0, help="print this many disagreements")
    parser.add_argument("--calibrate", action="store_true", help="score bands on the demo register")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--households", type=int, default=130_000)
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.seed, args.households)
        return
    print_report(evaluate(load(args.corpus)), args.errors)


if __name__ == "__main__":
    main()
