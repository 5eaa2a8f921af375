"""The values of a sweep, read from text or checked, and the scenario at each (layer 5).

``"V1,V2,..."`` or ``"START:STOP:STEP"``; a range is computed in exact decimal
arithmetic from the text, so STOP is included when it lies on the grid and no
float drift creeps in. Faults have the path ``values``. :func:`point_variants`
makes each point's scenario, or says why the point is skipped (:func:`instability`).
"""

from __future__ import annotations

import math
import numbers as numbers_abc
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from eda_sim.errors import Fault, ScenarioError
from eda_sim.scenario import Scenario
from eda_sim.scenario.paths import PARAM_FAULT_PATH, replace_value

__all__ = ["MAX_POINTS", "checked_values", "instability", "parse_values", "point_variants"]

#: Most points one sweep may have (a guard against a mistyped step).
MAX_POINTS = 10_000


def _values_fault(message: str) -> ScenarioError:
    return ScenarioError(Fault("values", message))


def _decimal(text: str, role: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise _values_fault(f"{role} must be a number, got {text.strip()!r}") from None
    if not number.is_finite() or not math.isfinite(float(number)):
        raise _values_fault(f"{role} must be a finite number, got {text.strip()!r}")
    return number


def checked_values(values: Sequence[float]) -> list[float]:
    """``values`` as floats: real, finite, distinct, at least one, at most :data:`MAX_POINTS`."""
    numbers: list[float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers_abc.Real):
            raise _values_fault(f"must be numbers, got {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise _values_fault(f"must be finite numbers, got {value!r}")
        if number in numbers:
            raise _values_fault(f"{number:g} is given twice")
        numbers.append(number)
    if not numbers:
        raise _values_fault("no values: give V1,V2,... or START:STOP:STEP")
    if len(numbers) > MAX_POINTS:
        raise _values_fault(f"{len(numbers)} points; a sweep has at most {MAX_POINTS}")
    return numbers


def parse_values(text: str) -> list[float]:
    """Read the values of a sweep: ``"V1,V2,..."`` or ``"START:STOP:STEP"``.

    A range is computed in exact decimal arithmetic from the text, ``START + i·STEP``
    for ``i = 0, 1, ...`` while the value does not pass STOP, so STOP is included
    when it lies on the grid and no float drift creeps in. STEP may be negative
    for a falling range.

    Raises
    ------
    ScenarioError
        With the fault path ``values``: not numbers, not finite, a STEP of 0 or
        pointing away from STOP, a value given twice, more than :data:`MAX_POINTS`.

    Examples
    --------
    >>> parse_values("0.5, 0.6, 0.75")
    [0.5, 0.6, 0.75]
    >>> parse_values("0.1:0.3:0.1")
    [0.1, 0.2, 0.3]
    >>> parse_values("1:2:0.3")
    [1.0, 1.3, 1.6, 1.9]
    >>> parse_values("0.5:0.2:-0.1")
    [0.5, 0.4, 0.3, 0.2]
    >>> parse_values("0.5:0.9:0")
    Traceback (most recent call last):
    ...
    eda_sim.errors.ScenarioError: values: STEP must not be 0
    """
    text = text.strip()
    if not text:
        raise _values_fault("is empty: give V1,V2,... or START:STOP:STEP")
    if ":" not in text:
        items = text.split(",")
        if any(not item.strip() for item in items):
            raise _values_fault(f"has an empty item in {text!r}: give V1,V2,...")
        return checked_values([float(_decimal(item, "each value")) for item in items])
    pieces = text.split(":")
    if len(pieces) != 3:
        raise _values_fault(f"a range is START:STOP:STEP (three numbers), got {text!r}")
    start, stop, step = (
        _decimal(piece, role) for piece, role in zip(pieces, ("START", "STOP", "STEP"), strict=True)
    )
    if step == 0:
        raise _values_fault("STEP must not be 0")
    span = (stop - start) / step
    if span < 0:
        raise _values_fault(f"STEP {step} goes away from STOP ({start} to {stop})")
    count = int(span.to_integral_value(rounding=ROUND_FLOOR)) + 1
    if count > MAX_POINTS:
        raise _values_fault(f"{text!r} gives {count} points; a sweep has at most {MAX_POINTS}")
    return checked_values([float(start + index * step) for index in range(count)])


def instability(variant: Scenario) -> str | None:
    """Why a point cannot run: stations of unlimited capacity offered ρ >= 1."""
    unstable = [f"{name} (ρ = {rho:.4g})" for name, rho in variant.unstable_stations()]
    if not unstable:
        return None
    return (
        f"unstable: load >= 1 at {', '.join(unstable)} with unlimited capacity, the queue "
        "grows without bound (--allow-unstable runs it)"
    )


def point_variants(
    base: Scenario, param: str, values: Sequence[float], allow_unstable: bool
) -> tuple[dict[int, Scenario], dict[int, str]]:
    """Every point's scenario, or why it is skipped; raise every other fault at once."""
    variants: dict[int, Scenario] = {}
    skipped: dict[int, str] = {}
    faults: list[Fault] = []
    for index, value in enumerate(values):
        try:
            variant = replace_value(base, param, value, allow_unstable=True)
        except ScenarioError as error:
            for fault in error.faults:
                if fault.path != PARAM_FAULT_PATH:
                    fault = Fault(
                        fault.path,
                        f"{fault.message} (sweep point {index + 1} of {len(values)}: "
                        f"{param} = {value:g})",
                    )
                if fault not in faults:
                    faults.append(fault)
            continue
        reason = None if allow_unstable else instability(variant)
        if reason is None:
            variants[index] = variant
        else:
            skipped[index] = reason
    if faults:
        raise ScenarioError(faults)
    return variants, skipped
