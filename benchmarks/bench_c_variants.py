"""Variants of the C control side by side: can an event loop grow ≤ 1.5× from N = 3 to 1,000?

Issue 14's third kernel target asks the fast engine's time per visit at
N = 1,000 stations to be within 1.5× of its time at N = 3. The C control
(``benchmarks/c_control/network.c``) itself grows 2.0–2.5× on the same
networks; this script builds the variants of
``benchmarks/c_control/network_variants.c`` (one ``-D`` flag per change: a
calendar queue instead of the binary heap, or a heap for few events and the
calendar for many; software prefetching of the next event's state; a guide
table for the entry draw; branch-free heap pops and routing draws; and the
loop with its measurements stripped as a lower bound) with the system's
``cc -O2``, checks
that every variant simulates the same visits as ``network.c`` (and, when it
keeps the measurements, gives the same checksum), and times them on the
networks ``benchmarks/bench_network_size.py`` generates.

Timing, as ``bench_network_size.py`` times the C control: each run reports the
CPU time of its own event loop (``CLOCK_PROCESS_CPUTIME_ID``); time per visit is
marginal, (t_long − t_short) / (visits_long − visits_short) from a short horizon
and one 5× longer, so that what a run pays once (the 500 sample-path ticks'
snapshots included) cancels. Every round runs every variant at every size in
its own process, in an order that rotates from round to round, so that a
change in the machine's load falls on all variants alike. Printed per variant:
the median over rounds of ns per visit at each size, and the median, lowest
and highest per-round ratio of N = 1,000 (the largest size) over N = 3 (the
smallest).

How to run (from the repository root, a few minutes; the machine should be
otherwise idle, and the figures say nothing across machines)::

    python benchmarks/bench_c_variants.py
    python benchmarks/bench_c_variants.py --rounds 3 --visits 1000000      # quick
    python benchmarks/bench_c_variants.py --variants network.c,calendar --json c.json

A report, not a test: exit 0 whatever the figures, 1 when a variant's visits
or checksum differ from ``network.c``'s, 2 when there is no C compiler.
``tests/test_bench_c_variants.py`` checks the identity on a small network.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_network_size import c_input, network, visit_rate  # noqa: E402

from eda_sim.scenario import scenario_from_dict  # noqa: E402

CONTROL = HERE / "c_control" / "network.c"
VARIANTS_SOURCE = HERE / "c_control" / "network_variants.c"
SIZES = (3, 100, 1_000)
LONG_OVER_SHORT = 5.0
TARGET_GROWTH = 1.5


@dataclass(frozen=True)
class Variant:
    """One build of the C control: its source file and ``-D`` flags."""

    name: str
    source: Path
    flags: tuple[str, ...]
    description: str

    @property
    def measures(self) -> bool:
        """Whether it keeps network.c's measurements (and so its checksum)."""
        return "-DBARE" not in self.flags


def variant_of(name: str, flags: str, description: str) -> Variant:
    """A build of ``network_variants.c`` with the ``-D`` flags ``flags`` names (space-separated)."""
    return Variant(name, VARIANTS_SOURCE, tuple(f"-D{flag}" for flag in flags.split()), description)


#: Every variant, in the order of the table (``--variants`` picks some by name).
VARIANTS: tuple[Variant, ...] = (
    Variant("network.c", CONTROL, (), "the C control as shipped (binary heap)"),
    variant_of("variants", "", "network_variants.c without a flag: network.c's loop"),
    variant_of("inline", "INLINE", "the same, its hot functions always inlined (all below are)"),
    variant_of("branchless", "INLINE BRANCHLESS", "the heap's pop without a branch per level"),
    variant_of("calendar", "INLINE CALENDAR", "a calendar queue (Brown 1988) instead of the heap"),
    variant_of(
        "hybrid", "INLINE HYBRID=64", "the heap up to 64 pending events, the calendar above"
    ),
    variant_of(
        "prefetch", "INLINE PREFETCH", "the next event's slot, station, routing row prefetched"
    ),
    variant_of("guide", "INLINE GUIDE", "the entry draw by a guide table, not a bisection over N"),
    variant_of("hybrid+guide", "INLINE HYBRID=64 GUIDE", "hybrid queue and entry guide table"),
    variant_of("hybrid+prefetch+guide", "INLINE HYBRID=64 PREFETCH GUIDE", "the three together"),
    variant_of(
        "hybrid+prefetch+guide+row3",
        "INLINE HYBRID=64 PREFETCH GUIDE ROW3",
        "... and branch-free rows",
    ),
    variant_of("calendar+guide", "INLINE CALENDAR GUIDE", "calendar queue and entry guide table"),
    variant_of("calendar+prefetch+guide", "INLINE CALENDAR PREFETCH GUIDE", "the same, calendar"),
    variant_of("bare", "INLINE BARE", "lower bound: heap, busy counts and lines, routing, draws"),
    variant_of("bare+branchless", "INLINE BARE BRANCHLESS", "the lower bound, branchless heap"),
    variant_of("bare+hybrid", "INLINE BARE HYBRID=64", "the lower bound on the hybrid queue"),
    variant_of(
        "bare+hybrid+prefetch+guide", "INLINE BARE HYBRID=64 PREFETCH GUIDE", "... and the rest"
    ),
    variant_of(
        "bare+hybrid+prefetch+guide+row3",
        "INLINE BARE HYBRID=64 PREFETCH GUIDE ROW3",
        "... and branch-free routing rows",
    ),
    variant_of(
        "bare+calendar+prefetch+guide", "INLINE BARE CALENDAR PREFETCH GUIDE", "... on the calendar"
    ),
)


def find_compiler() -> str | None:
    """The system's C compiler (``cc``, else ``gcc`` or ``clang``), or None."""
    return shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def build(
    variant: Variant, compiler: str, folder: Path, options: tuple[str, ...] = ("-O2",)
) -> Path:
    """Compile one variant (``options``: the optimisation flags); raises CalledProcessError."""
    binary = folder / variant.name.replace("+", "_").replace(".", "_")
    command = [compiler, *options, *variant.flags, "-o", str(binary), str(variant.source), "-lm"]
    subprocess.run(command, capture_output=True, text=True, check=True)
    return binary


def run_once(binary: Path, data: Path, horizon: float) -> tuple[int, float, str]:
    """One run: (visits, CPU seconds of the event loop, checksum as printed)."""
    done = subprocess.run(
        [str(binary), str(data), repr(horizon), "1"], capture_output=True, text=True, check=True
    )
    visits, seconds, checksum = done.stdout.split()
    return int(visits), float(seconds), checksum


def network_input(size: int, folder: Path) -> tuple[Path, float]:
    """The generated network of ``size`` stations as the C programs read it, and its visit rate."""
    scenario = scenario_from_dict(network(size), name=f"random-{size}")
    data = folder / f"network-{size}.txt"
    c_input(scenario, data)
    return data, visit_rate(scenario)


def check_identity(
    binaries: dict[str, Path], variants: list[Variant], data: Path, horizon: float
) -> list[str]:
    """Faults: variants whose visits, or checksum when they measure, differ from network.c."""
    reference = run_once(binaries["network.c"], data, horizon)
    faults = []
    for variant in variants:
        visits, _, checksum = run_once(binaries[variant.name], data, horizon)
        if visits != reference[0]:
            faults.append(f"{variant.name}: {visits} visits, network.c {reference[0]}")
        elif variant.measures and checksum != reference[2]:
            faults.append(f"{variant.name}: checksum {checksum}, network.c {reference[2]}")
    return faults


def one_round(
    binaries: dict[str, Path],
    variants: list[Variant],
    inputs: dict[int, tuple[Path, float]],
    visits: float,
    shift: int,
) -> dict[str, dict[int, float]]:
    """Every variant at every size once (order rotated by ``shift``): marginal s per visit."""
    order = variants[shift % len(variants) :] + variants[: shift % len(variants)]
    figures: dict[str, dict[int, float]] = {variant.name: {} for variant in variants}
    for size, (data, rate) in inputs.items():
        short = visits / LONG_OVER_SHORT / rate
        for variant in order:
            v_short, t_short, _ = run_once(binaries[variant.name], data, short)
            v_long, t_long, _ = run_once(binaries[variant.name], data, short * LONG_OVER_SHORT)
            figures[variant.name][size] = (t_long - t_short) / max(v_long - v_short, 1)
    return figures


def summarise(
    rounds: list[dict[str, dict[int, float]]], sizes: list[int]
) -> dict[str, dict[str, Any]]:
    """Per variant: ns per visit at each size (median, and each round's); per-round growth."""
    small, large = min(sizes), max(sizes)
    table: dict[str, dict[str, Any]] = {}
    for name in rounds[0]:
        per_size = {
            str(size): statistics.median(r[name][size] for r in rounds) * 1e9 for size in sizes
        }
        growth = [r[name][large] / r[name][small] for r in rounds]
        table[name] = {
            "ns_per_visit": per_size,
            "ns_rounds": {str(size): [r[name][size] * 1e9 for r in rounds] for size in sizes},
            "growth_rounds": growth,
            "growth_median": statistics.median(growth),
        }
    return table


def report(table: dict[str, dict[str, Any]], sizes: list[int], variants: list[Variant]) -> None:
    small, large = min(sizes), max(sizes)
    header = "".join(f"{f'N={size}':>9}" for size in sizes)
    print(f"\n{'variant':<30}{header}  {large}/{small} median [lowest, highest]")
    for variant in variants:
        row = table[variant.name]
        cells = "".join(f"{row['ns_per_visit'][str(size)]:9.1f}" for size in sizes)
        growth = row["growth_rounds"]
        print(
            f"{variant.name:<30}{cells}  {row['growth_median']:.2f} "
            f"[{min(growth):.2f}, {max(growth):.2f}]"
        )
    print(f"(ns per visit, medians over rounds; target growth <= {TARGET_GROWTH})")
    for variant in variants:
        print(f"  {variant.name}: {variant.description}")


def load_averages() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--visits", type=float, default=4e6, help="visits of the long horizon")
    parser.add_argument(
        "--variants",
        default=",".join(variant.name for variant in VARIANTS),
        help="comma-separated names (network.c is always built, as the reference)",
    )
    parser.add_argument(
        "--cflags", default="-O2", help="the compiler's optimisation flags (every variant)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    known = {variant.name: variant for variant in VARIANTS}
    unknown = [name for name in args.variants.split(",") if name not in known]
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    args.variants = [known[name] for name in args.variants.split(",")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    compiler = find_compiler()
    if compiler is None:
        print("no C compiler (cc, gcc, clang) on this machine: nothing to build")
        return 2
    print(
        f"{os.cpu_count()} CPUs, load averages {load_averages()} (before); {compiler} {args.cflags}"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        variants: list[Variant] = args.variants
        options = tuple(args.cflags.split())
        binaries = {v.name: build(v, compiler, folder, options) for v in {VARIANTS[0], *variants}}
        inputs = {size: network_input(size, folder) for size in args.sizes}
        faults = []
        for data, rate in inputs.values():
            faults += check_identity(binaries, variants, data, 20_000 / rate)
        if faults:
            print("variants differ from network.c:\n  " + "\n  ".join(faults))
            return 1
        print(f"same visits (and checksums where measured) as network.c at N = {args.sizes}")
        rounds = []
        for shift in range(args.rounds):
            rounds.append(one_round(binaries, variants, inputs, args.visits, shift))
            print(f"round {shift + 1}/{args.rounds} done, load averages {load_averages()}")
    table = summarise(rounds, args.sizes)
    report(table, args.sizes, variants)
    print(f"load averages {load_averages()} (after)")
    if args.json:
        figures = {
            "sizes": args.sizes,
            "visits": args.visits,
            "compiler": f"{compiler} {args.cflags}",
            "variants": table,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
