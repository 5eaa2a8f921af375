"""``benchmarks/bench_c_variants.py``: every variant of the C control simulates what network.c does.

Not a timing (docs/performance.md has the figures): the variants of
``benchmarks/c_control/network_variants.c`` (calendar queue, hybrid
heap/calendar, prefetching, entry guide table, the loop without its
measurements) must pop the same events in the same order and draw the same
random numbers as ``network.c``, so they give the same visits and, when they
keep the measurements, the same checksum. A calendar queue that lost the
(time, order) order of two events, or a guide table that picked another
station, would change them. Skipped without a C compiler, as the benchmark is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench_c_variants.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_c_variants as variants  # noqa: E402  (benchmarks/ is not a package)

needs_compiler = pytest.mark.skipif(variants.find_compiler() is None, reason="no C compiler")

#: A hybrid queue that switches often (up above 8 pending events, down under 2),
#: so that both moves between the heap and the calendar run many times.
SWITCHING = variants.variant_of("hybrid-8", "HYBRID=8 PREFETCH", "switches often")
#: Every variant the identity test compares, network.c first.
CHOSEN = [*variants.VARIANTS, SWITCHING]


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every variant of :data:`CHOSEN` built once (``cc -O2``, as the benchmark builds them).

    The tests only run the binaries, so one build serves every size; the builds
    are independent compiler processes, two at a time.
    """
    compiler = variants.find_compiler()
    assert compiler is not None
    folder = tmp_path_factory.mktemp("c_variants")
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = pool.map(lambda v: variants.build(v, compiler, folder), CHOSEN)
        return {variant.name: binary for variant, binary in zip(CHOSEN, built, strict=True)}


@needs_compiler
@pytest.mark.parametrize("size", [3, 100])
def test_every_variant_gives_network_c_visits_and_checksum(
    tmp_path: Path, size: int, binaries: dict[str, Path]
) -> None:
    chosen = CHOSEN
    data, rate = variants.network_input(size, tmp_path)
    horizon = 30_000 / rate
    assert variants.check_identity(binaries, chosen, data, horizon) == []
    assert variants.run_once(binaries["network.c"], data, horizon)[0] > 20_000
    bare = variants.run_once(binaries["bare"], data, horizon)[2]
    for variant in chosen:  # the bare loops keep their own checksum, alike across them
        if not variant.measures:
            assert variants.run_once(binaries[variant.name], data, horizon)[2] == bare


@needs_compiler
def test_a_variant_that_differs_is_reported(tmp_path: Path, binaries: dict[str, Path]) -> None:
    data, rate = variants.network_input(3, tmp_path)
    reference = binaries["network.c"]
    fake = tmp_path / "fake"
    fake.write_text("#!/bin/sh\necho 7 0.001 1.5\n")
    fake.chmod(0o755)
    chosen = [variants.variant_of("wrong", "", "prints 7 visits")]
    faults = variants.check_identity(
        {"network.c": reference, "wrong": fake}, chosen, data, 1_000 / rate
    )
    assert len(faults) == 1 and faults[0].startswith("wrong: 7 visits, network.c ")


@needs_compiler
def test_the_benchmark_runs_and_reports(tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    command = [
        sys.executable, str(BENCH), "--sizes", "3,100", "--rounds", "2", "--visits", "20000",
        "--variants", "network.c,hybrid,bare", "--json", str(figures_file),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "same visits (and checksums where measured) as network.c" in done.stdout
    figures = json.loads(figures_file.read_text())["variants"]
    assert set(figures) == {"network.c", "hybrid", "bare"}
    for row in figures.values():
        assert len(row["growth_rounds"]) == 2
        assert all(row["ns_per_visit"][size] > 0 for size in ("3", "100"))


def test_unknown_variant_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--variants", "network.c,nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert "--variants: unknown nope" in done.stderr
