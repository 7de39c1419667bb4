"""Test helpers for the course's test cells: comparisons a submission cannot fool cheaply.

The grader imports this module before any student code runs, so the references below are
NumPy's own functions even if a submission later replaces ``np.allclose`` or ``np.isclose``.
The helpers accept only plain values — ``float``/``int``/``bool``, ``numpy`` scalars and
``numpy.ndarray`` exactly, never a subclass (a ``float`` subclass can make every comparison
true) — and say so in their message::

    from medganlab.testing import check_array, check_close

    got = stored_to_hu(np.array([[0, 1024]], dtype=np.uint16), 1.0, -1024.0)
    check_array(got, shape=(1, 2), dtype="float32", what="stored_to_hu(...)")
    check_close(got, [[-1024.0, 0.0]], what="stored_to_hu(...)")

Each raises ``AssertionError`` with a message that teaches, like a hand-written assert.
"""

from __future__ import annotations

import builtins
import json
import math

import numpy as _np

__all__ = [
    "check_array",
    "check_close",
    "check_own_work",
    "check_scalar",
    "plain",
    "tamper_report",
]

# References captured at import (before student code runs); never looked up again.
_asarray = _np.asarray
_ndarray = _np.ndarray
_generic = _np.generic
_abs = _np.abs
_isnan = _np.isnan
_less_equal = _np.less_equal
_logical_or = _np.logical_or
_logical_and = _np.logical_and
_all = _np.all
_shape = _np.shape
_isinstance = builtins.isinstance
_type = builtins.type
_PLAIN_SCALARS = (float, int, bool)
_WATCHED = {
    "numpy.allclose": (_np, "allclose", _np.allclose),
    "numpy.isclose": (_np, "isclose", _np.isclose),
    "numpy.array_equal": (_np, "array_equal", _np.array_equal),
    "numpy.testing.assert_allclose": (_np.testing, "assert_allclose", _np.testing.assert_allclose),
    "numpy.all": (_np, "all", _np.all),
    "numpy.any": (_np, "any", _np.any),
    "math.isclose": (math, "isclose", math.isclose),
    "builtins.isinstance": (builtins, "isinstance", builtins.isinstance),
    "builtins.abs": (builtins, "abs", builtins.abs),
}


def plain(value, what: str = "the result"):
    """Return ``value`` as a NumPy array if it is a plain number or array, else fail.

    Raises:
        AssertionError: ``value`` is a subclass of ``float``/``ndarray``, an object array or
            anything else that could redefine comparisons.
    """
    kind = _type(value)
    if kind in _PLAIN_SCALARS or (_isinstance(value, _generic) and kind.__module__ == "numpy"):
        return _asarray(value)
    if kind is _ndarray:
        if value.dtype.kind not in "biufc":
            raise AssertionError(f"{what} should hold numbers, got an array of dtype {value.dtype}")
        return value
    if kind in (list, tuple):
        items = [plain(v, what) for v in value]
        return _asarray(items)
    raise AssertionError(
        f"{what} should be a plain float, int or numpy array, got {kind.__name__!s} "
        f"(a subclass or another type cannot be checked)"
    )


def check_scalar(value, what: str = "the result") -> float:
    """``value`` is one plain number; return it as a Python float."""
    arr = plain(value, what)
    if arr.shape != ():
        raise AssertionError(f"{what} should be a single number, got shape {arr.shape}")
    return float(arr)


def check_array(value, shape=None, dtype=None, what: str = "the result"):
    """``value`` is a plain NumPy array of the given shape and dtype; return it."""
    if _type(value) is not _ndarray:
        raise AssertionError(f"{what} should be a numpy array, got {_type(value).__name__}")
    plain(value, what)
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
    if dtype is not None and str(value.dtype) != str(_np.dtype(dtype)):
        raise AssertionError(f"{what}: expected dtype {_np.dtype(dtype)}, got {value.dtype}")
    return value


def check_close(got, expected, rtol: float = 1e-5, atol: float = 1e-8, what: str = "the result"):
    """``got`` equals ``expected`` within tolerances (NumPy's ``allclose`` rule, captured)."""
    a = plain(got, what)
    b = plain(expected, "the expected value")
    if _shape(a) != _shape(b) and a.size != 1 and b.size != 1:
        raise AssertionError(f"{what}: expected shape {_shape(b)}, got {_shape(a)}")
    a64 = a.astype("float64") if a.dtype.kind != "c" else a
    b64 = b.astype("float64") if b.dtype.kind != "c" else b
    close = _less_equal(_abs(a64 - b64), atol + rtol * _abs(b64))
    close = _logical_or(close, _logical_and(_isnan(a64), _isnan(b64)))
    close = _logical_or(close, a64 == b64)
    if not bool(_all(close)):
        raise AssertionError(f"{what}: expected {b.tolist()}, got {a.tolist()}")


def _names(code) -> tuple[set[str], set[str]]:
    """(global names, attribute and imported names) a code object uses, nested functions and
    lambdas included: ``seg.mean_score`` gives the attribute ``mean_score``, a bare call of
    ``mean_score`` the global one."""
    import dis

    globals_, attributes = set(), set()
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            globals_.add(ins.argval)
        elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD", "IMPORT_FROM", "IMPORT_NAME"):
            attributes.add(str(ins.argval).rsplit(".", 1)[-1])
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            inner = _names(const)
            globals_ |= inner[0]
            attributes |= inner[1]
    return globals_, attributes


def check_own_work(*functions, forbidden) -> None:
    """Fail when a student's function calls one of the package's ``forbidden`` functions.

    Some exercises ask for what the package also has (it needs its own copy for the later
    runs). This looks through each function's code, and that of the notebook's functions it
    calls, for the forbidden functions by name or by identity (an alias is caught too).
    """
    banned = {id(f): f"{f.__module__}.{f.__qualname__}" for f in forbidden}
    banned_names = {f.__name__: banned[id(f)] for f in forbidden}
    todo, seen = [(f, getattr(f, "__name__", "your function")) for f in functions], set()
    while todo:
        fn, top = todo.pop()
        if id(fn) in banned:
            raise AssertionError(f"expected your own implementation of {top}, got {banned[id(fn)]}")
        code, scope = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
        if code is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        global_names, attribute_names = _names(code)
        for name in sorted(attribute_names):  # seg.mean_score, from ... import mean_score
            if name in banned_names:
                raise AssertionError(
                    f"expected your own implementation of {top}: it uses {banned_names[name]}, "
                    "the package's version that this notebook runs later; write yours with NumPy"
                )
        for name in sorted(global_names):
            helper = scope.get(name)
            own = (
                _type(helper).__name__ == "function"
                and getattr(helper, "__module__", None) == fn.__module__
            )
            used = banned.get(id(helper))  # an alias of the package's function
            if used:
                raise AssertionError(
                    f"expected your own implementation of {top}: it uses {used}, the package's "
                    "version that this notebook runs later; write yours with NumPy"
                )
            if own:  # the student's own helper: look inside it too
                todo.append((helper, top))


def tamper_report() -> str:
    """One line for the grader: which watched functions were replaced since import."""
    replaced = [
        name for name, (mod, attr, ref) in _WATCHED.items() if getattr(mod, attr, None) is not ref
    ]
    return "MEDGANLAB-PROBE " + json.dumps({"replaced": replaced})
