"""``medganlab.setup()``: seeds, device, precision policy, XLA and log noise in one call."""

from __future__ import annotations

import logging
import os
import platform
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from medganlab import __version__
from medganlab.profiles import active_profile

__all__ = [
    "PRECISIONS",
    "RuntimeInfo",
    "cpu_has_native_bf16",
    "choose_precision",
    "quiet_tensorflow_logs",
    "setup",
    "describe_runtime",
]

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class RuntimeInfo:
    """What :func:`setup` decided; notebooks pass ``jit_compile`` to ``model.compile``."""

    profile: str
    seed: int
    device: str  # "GPU" or "CPU"
    gpus: tuple[str, ...]
    precision: str
    precision_reason: str
    jit_compile: bool
    versions: dict[str, str]

    def lines(self) -> list[str]:
        """The four lines :func:`setup` prints."""
        v = self.versions
        return [
            f"Versions: medganlab {v['medganlab']} | Python {v['python']} | "
            f"TensorFlow {v['tensorflow']} | Keras {v['keras']}",
            f"Device: {self.device}"
            + (
                f" ({', '.join(self.gpus)})"
                if self.gpus
                else f" ({os.cpu_count()} cores, {platform.machine()})"
            ),
            f"Precision: {self.precision} ({self.precision_reason}) | XLA: "
            f"{'on' if self.jit_compile else 'off'}",
            f"Profile: {self.profile} | seed {self.seed}",
        ]


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises native bfloat16 arithmetic (AVX512-BF16 or AMX-BF16)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return any(flag in flags for flag in _BF16_FLAGS)
    return False


def choose_precision(gpu: bool, cpu_bf16: bool, override: str | None = None) -> tuple[str, str]:
    """Pick the Keras dtype policy and say why.

    ``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU with native bf16 (1.5–3.5x faster
    train steps measured on such a CPU), ``float32`` otherwise; ``override`` (or the
    ``MEDGANLAB_PRECISION`` variable) always wins.

    Raises:
        ValueError: the override is not a known policy.
    """
    if override:
        if override not in PRECISIONS:
            raise ValueError(
                f"precision {override!r} is not supported; expected one of: {', '.join(PRECISIONS)}"
            )
        return override, "requested"
    if gpu:
        return "mixed_float16", "auto: GPU"
    if cpu_bf16:
        return "mixed_bfloat16", "auto: CPU with native bf16"
    return "float32", "auto: CPU without native bf16"


def quiet_tensorflow_logs() -> None:
    """Silence TensorFlow's C++ and Python start-up noise (errors still show).

    Keeps oneDNN on: turning it off to hide its banner made training up to 2x slower.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_CPP_MIN_VLOG_LEVEL", "0")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="keras.src.trainers")


def describe_runtime(
    seed: int = 42, precision: str | None = None, profile: str | None = None
) -> RuntimeInfo:
    """Return what :func:`setup` would choose, without seeding or changing the policy."""
    quiet_tensorflow_logs()
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    chosen, reason = choose_precision(
        gpu=bool(gpus),
        cpu_bf16=cpu_has_native_bf16(),
        override=precision or os.environ.get("MEDGANLAB_PRECISION") or None,
    )
    return RuntimeInfo(
        profile=profile or active_profile(gpu=bool(gpus)),
        seed=seed,
        device="GPU" if gpus else "CPU",
        gpus=tuple(g.name for g in gpus),
        precision=chosen,
        precision_reason=reason,
        jit_compile=bool(gpus),
        versions={
            "medganlab": __version__,
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    )


def setup(
    seed: int = 42,
    precision: str | None = None,
    profile: str | None = None,
    verbose: bool = True,
) -> RuntimeInfo:
    """Prepare TensorFlow/Keras for a notebook and print one line each about it.

    Seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``), enables GPU memory
    growth, sets the dtype policy (:func:`choose_precision`), turns XLA on only with a GPU
    (XLA made CPU steps 1.2–2x slower on the course's reference machine).

    Args:
        seed: the global seed.
        precision: force a dtype policy (else ``MEDGANLAB_PRECISION``, else automatic).
        profile: the run profile to report (default: the active one).
        verbose: print the summary lines.
    """
    info = describe_runtime(seed=seed, precision=precision, profile=profile)
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: growth must be set before first use
            pass
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_dtype_policy(info.precision)
    if verbose:
        print("\n".join(info.lines()), file=sys.stdout)
    return info
