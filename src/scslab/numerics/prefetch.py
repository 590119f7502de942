"""A software prefetch for compiled kernels whose reads hop across a large array.

``prefetch(a, i)`` asks the CPU to start loading ``a[i]`` into cache without waiting for
it (LLVM's ``llvm.prefetch``; no effect on results). Kernels that visit rows in an order
the hardware prefetcher cannot guess (a buyer's network neighbours, say) issue it a few
iterations ahead, so the misses overlap instead of stalling one after another. If this
LLVM does not accept the intrinsic, ``prefetch`` compiles to nothing: slower, never wrong.

Whether it does is checked once, lazily, the first time a kernel that uses ``prefetch`` is
*compiled* (a small IR module is verified by LLVM): importing this module and loading
kernels from Numba's cache cost nothing (``supported()``; ``PREFETCH`` is its value).
"""

from __future__ import annotations

from functools import cache

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _emit(builder, ptr) -> None:
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch")
    # read (0), keep in all cache levels (3), data cache (1)
    builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])


@cache
def supported() -> bool:
    """True if this LLVM verifies a module calling ``llvm.prefetch`` (checked once)."""
    try:
        from llvmlite import binding as llvm

        module = ir.Module(name="prefetch_probe")
        fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()]),
                         name="probe")
        builder = ir.IRBuilder(fn.append_basic_block())
        _emit(builder, fn.args[0])
        builder.ret_void()
        llvm.parse_assembly(str(module)).verify()
        return True
    except Exception:  # noqa: BLE001 - any refusal means: no prefetch
        return False


@intrinsic
def prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        if supported():
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            index = context.cast(builder, args[1], signature.args[1], types.intp)
            _emit(builder, builder.gep(ary.data, [index]))
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@intrinsic
def no_prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
    """The same signature as ``prefetch``, compiled to nothing (for comparisons)."""
    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


def __getattr__(name: str) -> bool:
    if name == "PREFETCH":
        return supported()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
