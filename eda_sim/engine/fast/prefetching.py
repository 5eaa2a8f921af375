"""Software prefetches: hints that ask the processor to fetch memory early (numba intrinsics).

LLVM's ``llvm.prefetch`` intrinsic (x86 ``prefetchw`` / ``prefetcht0``) starts a
cache line on its way to the first-level cache and returns at once: it changes
no value, never faults (even on an address past an array's end, which is why
the addresses below are computed without a bounds check) and, when the line is
already there, costs about one instruction. Compiled code uses it where it knows
an address some time before it reads it, so that a cache miss overlaps with
other work instead of stalling it:

* :data:`prefetch` ``(array, row, column)`` — one element of a 2-D array, for writing;
* :data:`prefetch_record` ``(array, index)`` — every cache line of one element of
  a 1-D array (a structured record may straddle two lines), for writing.

Used by the event loop (the next event's state, fetched while the current one
runs: :mod:`eda_sim.engine.fast.kernel`) and by the sketches' compiled passes
(:mod:`eda_sim.engine.fast.counting`, :mod:`eda_sim.engine.fast.cutting`).
"""

from __future__ import annotations

from typing import Any

from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["prefetch", "prefetch_record"]

# The intrinsic's name mangles its pointer type: opaque ``ptr`` from LLVM 15 on.
_PREFETCH = "llvm.prefetch.p0" if binding.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"
#: ``llvm.prefetch``'s hints: for writing (1), keep in every cache level (3), data (1).
_HINTS = (1, 3, 1)


def _fetch(builder: Any, address: Any) -> None:
    """Emit ``llvm.prefetch(address, 1, 3, 1)``."""
    byte_pointer = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
    module = builder.module
    function = module.globals.get(_PREFETCH) or ir.Function(module, function_type, _PREFETCH)
    hints = [ir.Constant(i32, hint) for hint in _HINTS]
    builder.call(function, [builder.bitcast(address, byte_pointer), *hints])


def _element_pointer(context: Any, builder: Any, sig: Any, args: Any) -> Any:
    """The address of ``array[indices...]`` (the intrinsic's arguments), without bounds checks."""
    array_type = sig.args[0]
    data = context.make_array(array_type)(context, builder, args[0])
    index = [
        context.cast(builder, args[k], sig.args[k], types.intp) for k in range(1, len(sig.args))
    ]
    return cgutils.get_item_pointer(  # type: ignore[no-untyped-call]  # numba's
        context, builder, array_type, data, index, wraparound=False
    )


def _prefetch(typingctx: Any, array: Any, row: Any, column: Any) -> Any:
    """Hint the processor to fetch ``array[row, column]`` for writing (no effect on values)."""
    signature = types.void(array, row, column)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        _fetch(builder, _element_pointer(context, builder, sig, args))
        return context.get_dummy_value()

    return signature, codegen


def _prefetch_record(typingctx: Any, array: Any, index: Any) -> Any:
    """Hint the processor to fetch every cache line of ``array[index]`` (a 1-D array).

    The lines of the element's first and last bytes: one line, or two for a
    record that straddles a line boundary (the same line twice otherwise).
    """
    signature = types.void(array, index)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        first = _element_pointer(context, builder, sig, args)
        size = context.get_abi_sizeof(context.get_data_type(sig.args[0].dtype))
        byte_pointer = ir.IntType(8).as_pointer()
        start = builder.bitcast(first, byte_pointer)
        _fetch(builder, start)
        if size > 16:  # (NumPy's data is 16-byte aligned: a smaller element fits one line)
            _fetch(builder, builder.gep(start, [ir.Constant(ir.IntType(64), size - 1)]))
        return context.get_dummy_value()

    return signature, codegen


#: ``prefetch(array, row, column)`` in compiled code (see :func:`_prefetch`).
prefetch: Any = intrinsic(_prefetch)
#: ``prefetch_record(array, index)`` in compiled code (see :func:`_prefetch_record`).
prefetch_record: Any = intrinsic(_prefetch_record)
