"""medganlab.setup(): precision choice, seeding, printed summary."""

from __future__ import annotations

import numpy as np
import pytest

from medganlab.runtime import (
    choose_precision,
    choose_xla,
    compute_tolerance,
    cpu_has_native_bf16,
    requested_devices,
    setup,
)


@pytest.mark.parametrize(
    ("gpu", "bf16", "override", "expected"),
    [
        (True, False, None, "mixed_float16"),
        (True, True, None, "mixed_float16"),
        (False, True, None, "mixed_bfloat16"),
        (False, False, None, "float32"),
        (True, True, "float32", "float32"),
        (False, False, "mixed_bfloat16", "mixed_bfloat16"),
    ],
)
def test_choose_precision(gpu, bf16, override, expected):
    assert choose_precision(gpu, bf16, override)[0] == expected


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="mixed_float16"):
        choose_precision(False, False, "half")


def test_bf16_detection_reads_cpu_flags(tmp_path):
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("processor: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile\n")
    without = tmp_path / "b"
    without.write_text("processor: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert cpu_has_native_bf16(with_bf16) is True
    assert cpu_has_native_bf16(without) is False
    assert cpu_has_native_bf16(tmp_path / "missing") is False


def test_setup_seeds_sets_policy_and_prints(capsys, smoke_env):
    import keras

    info = setup(seed=7, precision="float32")
    first = keras.random.normal((4,), seed=None)
    first_np = np.random.rand(3)
    setup(seed=7, precision="float32", verbose=False)
    again = keras.random.normal((4,), seed=None)
    assert np.allclose(np.asarray(first), np.asarray(again)), "same seed must give same draws"
    assert np.allclose(first_np, np.random.rand(3))
    assert keras.mixed_precision.dtype_policy().name == "float32"
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("Versions:") and "Profile: smoke" in lines[3]
    assert info.jit_compile is (info.device == "GPU")


def test_setup_honours_the_precision_variable(monkeypatch, smoke_env):
    import keras

    monkeypatch.setenv("MEDGANLAB_PRECISION", "mixed_bfloat16")
    info = setup(verbose=False)
    try:
        assert info.precision == "mixed_bfloat16" and info.precision_reason == "requested"
        assert keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize(
    ("gpu", "override", "expected"),
    [
        (True, None, True),
        (False, None, False),
        (False, "1", True),
        (True, "0", False),
        (False, "on", True),
    ],
)
def test_xla_on_with_a_gpu_unless_overridden(gpu, override, expected):
    assert choose_xla(gpu, override) is expected


def test_bad_xla_and_devices_values_are_clear_errors():
    with pytest.raises(ValueError, match="MEDGANLAB_XLA"):
        choose_xla(False, "maybe")
    with pytest.raises(ValueError, match="positive integer"):
        requested_devices({"MEDGANLAB_DEVICES": "two"})
    with pytest.raises(ValueError, match="positive integer"):
        requested_devices({"MEDGANLAB_DEVICES": "0"})
    assert requested_devices({}) is None and requested_devices({"MEDGANLAB_DEVICES": "2"}) == 2


def test_setup_decides_xla_for_the_harness(monkeypatch, smoke_env):
    from medganlab.runtime import jit_compile_default

    monkeypatch.setenv("MEDGANLAB_XLA", "1")
    info = setup(precision="float32", verbose=False)
    assert info.jit_compile is True and jit_compile_default() is True
    monkeypatch.setenv("MEDGANLAB_XLA", "0")
    info = setup(precision="float32", verbose=False)
    assert info.jit_compile is False and jit_compile_default() is False


@pytest.mark.parametrize(
    ("dtype", "low", "high"),
    [("float32", 1e-7, 1e-4), ("bfloat16", 4e-3, 3e-2), ("float16", 4e-4, 4e-3)],
)
def test_compute_tolerance_covers_one_rounding_of_its_dtype(dtype, low, high):
    tol = compute_tolerance(dtype)
    assert low <= tol <= high
    x = np.linspace(-3, 3, 1001).astype("float32")
    rounded = tf_round_trip(x, dtype)
    assert np.allclose(rounded, x, rtol=tol, atol=tol), "one cast must stay within the tolerance"


def tf_round_trip(x, dtype):
    import tensorflow as tf

    return tf.cast(tf.cast(x, dtype), "float32").numpy()


def test_compute_tolerance_follows_the_policy():
    import keras

    try:
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
        assert compute_tolerance() == compute_tolerance("bfloat16")
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    with pytest.raises(ValueError, match="unknown dtype"):
        compute_tolerance("int8")
