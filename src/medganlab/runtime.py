"""``medganlab.setup()``: seeds, devices, precision policy, XLA and log noise in one call.

What a notebook gets is decided here once and read by the harness everywhere else:

- **precision** (``MEDGANLAB_PRECISION``): ``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a
  CPU with native bf16, ``float32`` otherwise (see :func:`choose_precision` for the measured
  reasons);
- **XLA** (``MEDGANLAB_XLA=0|1``): on with a GPU, off on a CPU (XLA made CPU steps slower);
  :func:`jit_compile_default` is what ``GAN.compile`` and the notebooks' ``compile`` use;
- **devices** (``MEDGANLAB_DEVICES=N``): with more than one GPU (or ``N >= 2`` logical CPU
  devices, to test the multi-GPU path on a laptop) :func:`setup` installs a
  ``tf.distribute.MirroredStrategy`` as TensorFlow's default strategy, so models built and
  trained afterwards are mirrored with no change to the notebook.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medganlab import __version__
from medganlab.profiles import active_profile

__all__ = [
    "PRECISIONS",
    "jit_compile_default",
    "compute_tolerance",
    "choose_xla",
    "requested_devices",
    "RuntimeInfo",
    "cpu_has_native_bf16",
    "choose_precision",
    "quiet_tensorflow_logs",
    "setup",
    "describe_runtime",
]

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
_STATE: dict[str, Any] = {"jit_compile": None}


def jit_compile_default() -> bool:
    """Whether ``compile()`` should use XLA: what :func:`setup` decided, else ``MEDGANLAB_XLA``.

    Without a :func:`setup` call: ``MEDGANLAB_XLA=1`` turns it on, anything else leaves it off.
    """
    if _STATE["jit_compile"] is not None:
        return bool(_STATE["jit_compile"])
    return choose_xla(gpu=False, override=os.environ.get("MEDGANLAB_XLA"))


_TOLERANCE = {"float32": 1e-5, "float64": 1e-10, "float16": 2.0**-9, "bfloat16": 2.0**-6}


def compute_tolerance(dtype: str | None = None) -> float:
    """A relative tolerance for comparing outputs computed in ``dtype``.

    Default: the compute dtype of the active Keras dtype policy. Layers cast their inputs to
    it, so "output equals input" holds only to its precision: float32 1e-5, float16 2^-9
    (10 mantissa bits, a few roundings), bfloat16 2^-6 (7 mantissa bits). Use it as both
    ``rtol`` and ``atol`` (for values of order 1) in ``np.allclose``.
    """
    if dtype is None:
        import keras

        dtype = keras.config.dtype_policy().compute_dtype
    if dtype not in _TOLERANCE:
        raise ValueError(
            f"compute_tolerance: unknown dtype {dtype!r}; expected {sorted(_TOLERANCE)}"
        )
    return _TOLERANCE[dtype]


def choose_xla(gpu: bool, override: str | None = None) -> bool:
    """XLA on with a GPU, off on a CPU; ``override`` (``MEDGANLAB_XLA``) ``1``/``0`` wins.

    Raises:
        ValueError: the override is not 0/1 (or true/false, on/off).
    """
    if override is None or str(override).strip() == "":
        return gpu
    value = str(override).strip().lower()
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    raise ValueError(f"MEDGANLAB_XLA={override!r}: expected 1 (XLA on) or 0 (XLA off)")


def requested_devices(environ: dict[str, str] | None = None) -> int | None:
    """The number of devices asked for with ``MEDGANLAB_DEVICES`` (``None``: not set).

    Raises:
        ValueError: not a positive integer.
    """
    env = os.environ if environ is None else environ
    raw = env.get("MEDGANLAB_DEVICES", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"MEDGANLAB_DEVICES={raw!r}: expected a positive integer such as 2")
    return int(raw)


def _logical_cpus(tf, count: int) -> list[str]:
    """Split the CPU into ``count`` logical devices (before TensorFlow initialises)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != count:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
            )
        except RuntimeError as error:
            have = len(tf.config.list_logical_devices("CPU"))
            if have != count:
                raise RuntimeError(
                    f"MEDGANLAB_DEVICES={count}: TensorFlow is already initialised with {have} "
                    "CPU device(s). Call medganlab.setup() before running any TensorFlow op "
                    "(restart the kernel and run the Setup cell first)."
                ) from error
    return [d.name for d in tf.config.list_logical_devices("CPU")][:count]


def _make_strategy(tf, gpus: list, count: int | None):
    """A MirroredStrategy over several GPUs or logical CPUs, or ``None`` for one device."""
    if gpus:
        names = [f"/gpu:{i}" for i in range(len(gpus))][: count or len(gpus)]
        if len(names) < 2:
            return None
        return tf.distribute.MirroredStrategy(names)
    if not count or count < 2:
        return None
    names = _logical_cpus(tf, count)
    return tf.distribute.MirroredStrategy(
        names, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


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
    replicas: int = 1
    strategy: Any = None  # the tf.distribute strategy with replicas > 1, else None

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
            f"{'on' if self.jit_compile else 'off'}"
            + (f" | {self.replicas} replicas (MirroredStrategy)" if self.replicas > 1 else ""),
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

    ``mixed_float16`` on a GPU (tensor cores; the harness scales the loss), ``mixed_bfloat16``
    on a CPU with native bf16, ``float32`` otherwise; ``override`` (or the
    ``MEDGANLAB_PRECISION`` variable) always wins. Measured with ``make bench`` (one train
    step, same process, alternating): on an AVX512-BF16 CPU a DCGAN-generator step was 1.18x
    and a 128x128 U-Net step 1.92x faster in bf16; on an AVX2-only CPU bf16 is emulated and
    was about 10x slower (DCGAN-G 0.35 -> 3.4 s, U-Net 2.0 -> 22.7 s), hence float32 there.

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
    devices = requested_devices()
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
        jit_compile=choose_xla(bool(gpus), os.environ.get("MEDGANLAB_XLA")),
        replicas=min(len(gpus), devices or len(gpus)) if gpus else (devices or 1),
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
    (XLA made CPU steps 1.2–2x slower on the course's reference machine; ``MEDGANLAB_XLA``
    overrides) and, with several GPUs or ``MEDGANLAB_DEVICES=N``, makes a
    ``MirroredStrategy`` TensorFlow's default strategy (``info.strategy``).

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
    strategy = _make_strategy(tf, tf.config.list_physical_devices("GPU"), requested_devices())
    if strategy is not None:
        tf.distribute.experimental_set_strategy(None)
        tf.distribute.experimental_set_strategy(strategy)
        info = dataclasses.replace(info, replicas=strategy.num_replicas_in_sync, strategy=strategy)
    elif tf.distribute.has_strategy():
        tf.distribute.experimental_set_strategy(None)
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_dtype_policy(info.precision)
    _STATE["jit_compile"] = info.jit_compile
    if verbose:
        print("\n".join(info.lines()), file=sys.stdout)
    return info
