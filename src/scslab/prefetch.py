"""A software prefetch for compiled kernels whose reads hop across a large array.

``prefetch(a, i)`` asks the CPU to start loading ``a[i]`` into cache without waiting for
it (LLVM's ``llvm.prefetch``; no effect on results). Kernels that visit rows in an order
the hardware prefetcher cannot guess (a buyer's network neighbours, say) issue it a few
iterations ahead, so the misses overlap instead of stalling one after another. If this
Numba/LLVM cannot compile the intrinsic, ``prefetch`` is a no-op (``PREFETCH`` is False):
slower, never wrong.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def _llvm_prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = builder.gep(ary.data, [index])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch")
        # read (0), keep in all cache levels (3), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@intrinsic
def _no_prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@nb.njit(cache=True)
def _touch(a):  # pragma: no cover - compiled
    for i in range(a.shape[0]):
        _llvm_prefetch(a, i)
    return a.sum()


def _probe() -> bool:
    """Compile and run the intrinsic once (cached); False where the toolchain refuses it."""
    try:
        return bool(_touch(np.arange(4, dtype=np.int64)) == 6)
    except Exception:  # noqa: BLE001 - any compile failure means: no prefetch
        return False


PREFETCH = _probe()
prefetch = _llvm_prefetch if PREFETCH else _no_prefetch
