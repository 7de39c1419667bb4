"""Image quality of synthetic CT slices against the real ones: SSIM, PSNR, MAE in HU.

SSIM and PSNR come from ``tf.image`` (not re-implemented here), computed on the windowed
[-1, 1] images (``max_val=2``). Per label region:

* ``background``: the whole slice (SSIM, PSNR) and the background pixels (MAE, HU means);
* ``kidney`` / ``tumour``: the region's bounding box, widened to at least 16 pixels, for SSIM
  and PSNR (SSIM needs an 11x11 window), and the region's pixels for MAE and HU means.

HU values are those of the W400/L0 window (-200..200): beyond it the real slice was clipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medganlab.data.ct_slices import REGIONS, check_label_map, to_hu

__all__ = ["MIN_BOX", "slice_quality", "region_quality", "hu_values"]

MIN_BOX = 16


def _check_pair(real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    if real.shape != fake.shape or real.ndim != 4 or real.shape[-1] != 1:
        raise ValueError(
            f"expected real and synthetic slices of the same shape (N, H, W, 1), got "
            f"{real.shape} and {fake.shape}"
        )
    return real, fake


def slice_quality(real: np.ndarray, fake: np.ndarray) -> dict[str, np.ndarray]:
    """Per-slice SSIM and PSNR (tf.image, max_val 2) and MAE in HU of whole slices."""
    import tensorflow as tf

    real, fake = _check_pair(real, fake)
    return {
        "ssim": tf.image.ssim(real, fake, max_val=2.0).numpy(),
        "psnr": tf.image.psnr(real, fake, max_val=2.0).numpy(),
        "mae_hu": np.abs(to_hu(real) - to_hu(fake)).mean(axis=(1, 2, 3)),
    }


def _box(mask: np.ndarray) -> tuple[slice, slice]:
    """Bounding box of ``mask`` (H, W), widened about its centre to MIN_BOX pixels."""
    out = []
    for axis, size in ((1, mask.shape[0]), (0, mask.shape[1])):
        index = np.flatnonzero(mask.any(axis=axis))
        lo, hi = int(index[0]), int(index[-1]) + 1
        width = min(size, max(hi - lo, MIN_BOX))
        start = min(max(0, (lo + hi) // 2 - width // 2), size - width)
        out.append(slice(start, start + width))
    return out[0], out[1]


def region_quality(real: np.ndarray, fake: np.ndarray, labels: np.ndarray) -> list[dict[str, Any]]:
    """SSIM, PSNR, MAE (HU) and HU means of real and synthetic slices per label region.

    Args:
        real, fake: float (N, H, W, 1) in [-1, 1].
        labels: (N, H, W, 1) label maps of the real slices.

    Returns:
        One row per region: ``region, slices, pixels, ssim, psnr_db, mae_hu, hu_mean_real,
        hu_mean_synthetic, hu_mean_difference`` (NaN where the region never occurs).
    """
    import tensorflow as tf

    real, fake = _check_pair(real, fake)
    labels = check_label_map(labels, like=real)
    rows = []
    for value, name in REGIONS.items():
        ssims, psnrs, real_hu, fake_hu = [], [], [], []
        for i in range(len(real)):
            mask = labels[i, ..., 0] == value
            if not mask.any():
                continue
            box = (slice(None), slice(None)) if value == 0 else _box(mask)
            a, b = real[i][box][None], fake[i][box][None]
            ssims.append(float(tf.image.ssim(a, b, max_val=2.0)[0]))
            psnrs.append(float(tf.image.psnr(a, b, max_val=2.0)[0]))
            real_hu.append(to_hu(real[i, ..., 0][mask]))
            fake_hu.append(to_hu(fake[i, ..., 0][mask]))
        r = np.concatenate(real_hu) if real_hu else np.zeros(0)
        f = np.concatenate(fake_hu) if fake_hu else np.zeros(0)
        nan = float("nan")
        rows.append(
            {
                "region": name,
                "slices": len(ssims),
                "pixels": int(r.size),
                "ssim": float(np.mean(ssims)) if ssims else nan,
                "psnr_db": float(np.mean(np.minimum(psnrs, 100.0))) if psnrs else nan,
                "mae_hu": float(np.abs(r - f).mean()) if r.size else nan,
                "hu_mean_real": float(r.mean()) if r.size else nan,
                "hu_mean_synthetic": float(f.mean()) if r.size else nan,
                "hu_mean_difference": float(f.mean() - r.mean()) if r.size else nan,
            }
        )
    return rows


def hu_values(images: np.ndarray, labels: np.ndarray, region: int) -> np.ndarray:
    """HU of every pixel of ``region`` (0, 1 or 2) in windowed ``images`` (for histograms)."""
    labels = check_label_map(labels, like=images)
    return to_hu(np.asarray(images)[labels == region])
