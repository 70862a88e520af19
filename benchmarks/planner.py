"""Benchmark: the planner's workspace in one run — edit latency, then the partition table.

Usage:
    .venv/bin/python benchmarks/planner.py [--edits 300] [--no-spopt]

Runs :mod:`benchmarks.plan_edits` (p50/p90/p99 per edit over ``--edits`` random edits on the
demo, against a full recomputation) and then :mod:`benchmarks.partition` (grids of 300–500
households for the 70 demo communities: repair of the plan in force, from scratch, spopt's
MaxPHeuristic; bound violations, households moved, compactness, seconds on one core).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import partition, plan_edits  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--no-spopt", action="store_true")
    args = parser.parse_args()
    program = sys.argv[0]
    print("== edits: latency per edit ==")
    sys.argv = [program, "--edits", str(args.edits)]
    plan_edits.main()
    print("\n== auto-partition: 70 communities, 300–500 households per grid ==")
    sys.argv = [program, *(["--no-spopt"] if args.no_spopt else [])]
    partition.main()


if __name__ == "__main__":
    main()
