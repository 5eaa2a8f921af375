"""The fast engine's compiled loop: no reference counting inside it, and a current digest.

The per-event steps live in their own modules and are inlined into the loop
(``eda_sim/engine/fast/jit.py``); these tests keep that house in order:

* the loop's compiled code has no reference-count operation (``NRT_incref``,
  ``NRT_decref``) in any cycle of its control-flow graph, i.e. none per event
  (a step that breaks the rules of ``jit.py`` puts one there and makes the loop
  markedly slower);
* ``kernel.COMPILED_MODULES`` lists exactly the package modules the loop is
  built from, and ``kernel.SOURCES_DIGEST`` is their current digest (numba's
  disk cache keys the loop on ``kernel.py`` alone).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytest.importorskip("numba")

import numba

from eda_sim.engine.fast import kernel, simulate_replication_fast
from eda_sim.engine.fast.support import load_kernel, sources_digest
from eda_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
FAST = ROOT / "eda_sim" / "engine" / "fast"


def _blocks(function_ir: str) -> dict[str, tuple[str, list[str]]]:
    """LLVM basic blocks of one function: label -> (body, successor labels)."""
    blocks = {}
    for chunk in re.split(r"\n(?=[\w.]+:)", function_ir):
        label = chunk.split(":", 1)[0].strip()
        # Only branch instructions (br, switch) name a block as a `label %...`.
        blocks[label] = (chunk, re.findall(r"label %([\w.]+)", chunk))
    return blocks


def _in_cycles(blocks: dict[str, tuple[str, list[str]]]) -> set[str]:
    """Labels of blocks that lie on a cycle (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cyclic: set[str] = set()
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(blocks[start][1]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in blocks:
                    continue
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(blocks[successor][1])))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                self_loop = node in blocks[node][1]
                if len(component) > 1 or self_loop:
                    cyclic.update(component)

    for label in blocks:
        if label not in index:
            visit(label)
    return cyclic


def test_the_loop_does_no_reference_counting_per_event() -> None:
    scenario = load_scenario(str(ROOT / "scenarios" / "tandem.yaml"))
    simulate_replication_fast(scenario, horizon=200.0, warmup=10.0)  # types the loop
    loop = load_kernel().run
    signature = loop.signatures[0]
    options = {k: v for k, v in loop.targetoptions.items() if k not in ("cache", "nopython")}
    fresh = numba.njit(loop.py_func, **options)  # compiled here, not loaded from the cache
    fresh.compile(signature)
    module = fresh.inspect_llvm(signature)
    functions = {
        found.group(1): function
        for function in module.split("\ndefine ")[1:]
        if (found := re.search(r"@([\w.$]+)\(", function))
    }
    (main,) = [  # the loop itself, not its Python or C wrappers
        function
        for name, function in functions.items()
        if "run_kernel" in name and not name.startswith(("_ZN7cpython", "cfunc"))
    ]
    blocks = _blocks(main)
    counted = {
        label
        for label, (body, _) in blocks.items()
        if "@NRT_incref" in body or "@NRT_decref" in body
    }
    inside = sorted(counted & _in_cycles(blocks))
    assert not inside, f"reference counting inside the loop, in blocks {inside}"


def _fast_imports(name: str) -> set[str]:
    tree = ast.parse((FAST / f"{name}.py").read_text())
    prefix = "eda_sim.engine.fast."
    return {
        node.module.removeprefix(prefix)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix)
    }


def test_the_digest_covers_every_module_of_the_loop_and_is_current() -> None:
    built_from: set[str] = set()
    pending = _fast_imports("kernel")
    while pending:
        name = pending.pop()
        if name not in built_from:
            built_from.add(name)
            pending |= _fast_imports(name)
    assert set(kernel.COMPILED_MODULES) == built_from
    digest = sources_digest(kernel.COMPILED_MODULES)
    assert kernel.SOURCES_DIGEST == digest, (
        f"set SOURCES_DIGEST = {digest!r} in eda_sim/engine/fast/kernel.py"
    )
