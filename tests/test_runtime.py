"""medganlab.setup(): precision choice, seeding, printed summary."""

from __future__ import annotations

import numpy as np
import pytest

from medganlab.runtime import choose_precision, cpu_has_native_bf16, setup


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
