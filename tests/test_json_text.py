"""eda_sim.results.json_text writes exactly the text of json.dumps(indent=..., allow_nan=False).

Byte-identity tests: random documents (numbers of every kind, lists of plain
numbers and mixed lists, empty containers, odd keys, escapes) and a small run's
result, each compared with :func:`json.dumps` itself.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from eda_sim.results.json_text import dumps


def _scalar(rng: np.random.Generator) -> Any:
    kind = int(rng.integers(11))
    if kind == 0:
        return float(rng.normal() * 10.0 ** rng.integers(-320, 300))
    if kind == 1:
        return int(rng.integers(-(2**62), 2**62)) * int(rng.integers(1, 2**40))
    if kind == 2:
        return None
    if kind == 3:
        return bool(rng.integers(2))
    if kind == 4:
        return "".join(chr(int(c)) for c in rng.integers(0, 0x2FFF, size=int(rng.integers(6))))
    if kind == 5:
        return np.float64(rng.normal())  # a float subclass
    if kind == 6:
        return float(rng.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e16, 0.1]))
    if kind == 7:
        return [float(v) for v in rng.normal(size=int(rng.integers(5)))]
    if kind == 8:
        return [int(v) for v in rng.integers(-5, 10**12, size=int(rng.integers(5)))]
    if kind == 9:
        return [_scalar(rng) for _ in range(int(rng.integers(4)))]
    return ()


def _document(rng: np.random.Generator, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.3:
        return _scalar(rng)
    if rng.random() < 0.5:
        return [_document(rng, depth - 1) for _ in range(int(rng.integers(5)))]
    keys: list[Any] = ["a", 'é\n"', "", "x" * 3, 7, -1.5, True, None, False, "\x1b[2J"]
    chosen = rng.choice(len(keys), size=int(rng.integers(5)), replace=False)
    return {keys[int(i)]: _document(rng, depth - 1) for i in chosen}


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("indent", [0, 2, 4])
def test_random_documents_give_json_dumps_text(seed: int, indent: int) -> None:
    document = _document(np.random.default_rng(seed), depth=4)
    assert dumps(document, indent) == json.dumps(document, indent=indent, allow_nan=False)


@pytest.mark.parametrize(
    "document",
    [
        [1.0, math.nan],
        {"a": [0.5, 1, math.inf]},
        [None, -math.inf],
        {math.nan: 1},
        math.nan,
        [1e308, 1e308, 2.0],  # a finite list whose sum overflows: the item by item path
    ],
)
def test_non_finite_floats_are_refused_as_json_refuses_them(document: Any) -> None:
    try:
        expected = json.dumps(document, indent=2, allow_nan=False)
    except ValueError:
        with pytest.raises(ValueError, match="Out of range float values"):
            dumps(document)
    else:
        assert dumps(document) == expected


@pytest.mark.parametrize("document", [{"a": object()}, [1, {1j: 2}], {(1, 2): 3}])
def test_what_json_cannot_hold_is_a_type_error(document: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(document, indent=2, allow_nan=False)
    with pytest.raises(TypeError):
        dumps(document)


def test_a_runs_json_is_json_dumps_text(tmp_path: Any) -> None:
    """A small run (paths, hop tables, latency, theory) written as json.dumps writes it."""
    import eda_sim
    from eda_sim.scenario import load_scenario

    scenario = load_scenario("scenarios/jackson3.yaml")
    result = eda_sim.run(scenario, horizon=300.0, warmup=30.0, replications=2, seed=3)
    document = result.to_dict()
    assert result.to_json() == json.dumps(document, indent=2, allow_nan=False)
    assert result.to_json(indent=None) == json.dumps(document, allow_nan=False)
    assert document["plot_data"]["path"]["times"]  # the sample path is in it
