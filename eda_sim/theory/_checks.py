"""Input checks shared by the theory modules (private).

Every check raises :class:`ValueError` naming the argument and the offending
value; a load that makes an infinite-buffer queue unstable raises
:class:`eda_sim.errors.UnstableError`, which is also a :class:`ValueError`.
"""

from __future__ import annotations

import math
import numbers

from eda_sim.errors import UnstableError

__all__ = [
    "check_capacity",
    "check_nonnegative",
    "check_positive",
    "check_probability_like",
    "check_servers",
    "check_stable",
    "unstable_message",
]


def _as_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise ValueError."""
    x = _as_float(name, value)
    if not (math.isfinite(x) and x > 0.0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return x


def check_nonnegative(name: str, value: object) -> float:
    """Return ``value`` as a float if it is finite and >= 0, else raise ValueError."""
    x = _as_float(name, value)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return x


def check_probability_like(name: str, value: object) -> float:
    """Return ``value`` as a float if it lies in [0, 1], else raise ValueError."""
    x = _as_float(name, value)
    if not (0.0 <= x <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return x


def check_servers(value: object, name: str = "servers", minimum: int = 1) -> int:
    """Return ``value`` as an int if it is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    x = float(value)
    if not (math.isfinite(x) and x.is_integer() and x >= minimum):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(x)


def check_capacity(value: object, servers: int, name: str = "capacity") -> int:
    """Return a finite capacity as an int; it must be whole and >= ``servers``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number >= servers={servers}, got {value!r}")
    x = float(value)
    if not (math.isfinite(x) and x.is_integer() and x >= servers):
        raise ValueError(f"{name} must be a whole number >= servers={servers}, got {value!r}")
    return int(x)


def unstable_message(rho: float) -> str:
    """Return the standard message for an unstable infinite-buffer queue."""
    return f"utilisation must be < 1 for a stable queue, got rho={rho:.4g}"


def check_stable(rho: float) -> None:
    """Raise :class:`UnstableError` (a ValueError) unless ``rho < 1``."""
    if not rho < 1.0:
        raise UnstableError(unstable_message(rho))
