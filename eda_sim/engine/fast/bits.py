"""A double's IEEE-754 bits as an integer, inside compiled code (numba intrinsic).

:func:`float_bits` is LLVM's ``bitcast`` from ``double`` to ``i64``: no
instruction at all once compiled, and exactly the integer that NumPy's
``array.view(np.int64)`` gives (:func:`eda_sim.stats.sketch.bucket_of` reads
buckets from it), since both only reinterpret the same 64 bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from numba import types
from numba.extending import intrinsic

__all__ = ["float_bits"]


@intrinsic
def _float_bits(typing_context: Any, value: Any) -> Any:
    """``float_bits(x)``: the bits of the float64 ``x`` as an int64 (compiled code only)."""
    if not isinstance(value, types.Float) or value.bitwidth != 64:
        return None
    signature = types.int64(types.float64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return signature, codegen


#: ``float_bits(x)``: the bits of the float64 ``x`` as an int64 (compiled code only).
float_bits = cast(Callable[[float], int], _float_bits)
