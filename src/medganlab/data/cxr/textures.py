"""Shared, precomputed image pieces: smooth random textures, detector noise, cheap blurs and
resampling. Textures are made once per process on a fixed millimetre grid and reused by
every image at a random offset, so no image pays for a Gaussian filter of its own noise."""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image
from scipy import ndimage

from medganlab.data.cxr.anatomy import FIELD_MM, _Grid

__all__: list[str] = []

_BANK_CELLS = 512  # texture bank resolution over the 430 mm field (0.84 mm cells)
TEXTURE_SCALES_MM = (1.2, 3.0, 7.0, 16.0)


@functools.lru_cache(maxsize=4)
def _bank(scale_mm: float) -> np.ndarray:
    """A periodic smooth random field (unit std) with ``scale_mm`` correlation length."""
    rng = np.random.default_rng([2026, int(scale_mm * 10)])
    noise = rng.standard_normal((_BANK_CELLS, _BANK_CELLS)).astype(np.float32)
    field = ndimage.gaussian_filter(noise, scale_mm / (FIELD_MM / _BANK_CELLS), mode="wrap")
    return (field / (field.std() + 1e-6)).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _bank_at(scale_mm: float, size: int) -> np.ndarray:
    """The texture bank resampled to a working grid of ``size`` pixels (tiled 2x2 so that
    any ``size`` x ``size`` window at an offset below ``size`` exists)."""
    field = _bank(scale_mm)
    if size != _BANK_CELLS:
        mode = Image.BOX if size < _BANK_CELLS else Image.BICUBIC
        field = np.asarray(Image.fromarray(field, mode="F").resize((size, size), mode))
        field = field / (field.std() + 1e-6)
    return np.tile(field.astype(np.float32), (2, 2))


def _texture(rng: np.random.Generator, grid: _Grid, scale_mm: float) -> np.ndarray:
    """A smooth random field (unit std, a view: do not modify) at a random offset and flip."""
    bank = _bank_at(scale_mm, grid.size)
    oy, ox = (int(v) for v in rng.integers(0, grid.size, 2))
    view = bank[oy : oy + grid.size, ox : ox + grid.size]
    flip = int(rng.integers(4))
    if flip & 1:
        view = view[::-1]
    if flip & 2:
        view = view[:, ::-1]
    return view


@functools.lru_cache(maxsize=4)
def _white_bank(size: int) -> np.ndarray:
    """Detector noise tile: white noise blurred by the detector's point spread (unit std)."""
    rng = np.random.default_rng([2026, 41, size])
    noise = rng.standard_normal((2 * size, 2 * size)).astype(np.float32)
    noise = ndimage.gaussian_filter(noise, 0.6, mode="wrap")
    return noise / (noise.std() + 1e-6)


def _detector_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """Unit-std detector noise for one image (a random window of the tile; a view)."""
    bank = _white_bank(size)
    oy, ox = (int(v) for v in rng.integers(0, size, 2))
    view = bank[oy : oy + size, ox : ox + size]
    return view[::-1] if rng.integers(2) else view


def _blur3(image: np.ndarray, passes: int = 1) -> np.ndarray:
    """Binomial [1, 2, 1] / 4 blur along both axes (sigma ~0.7 px per pass), edges held."""
    out = np.array(image, dtype=np.float32)
    for _ in range(passes):
        rows = out * np.float32(2)
        rows[1:] += out[:-1]
        rows[:-1] += out[1:]
        rows[0] += out[0]
        rows[-1] += out[-1]
        out = rows * np.float32(2)
        out[:, 1:] += rows[:, :-1]
        out[:, :-1] += rows[:, 1:]
        out[:, 0] += rows[:, 0]
        out[:, -1] += rows[:, -1]
        out *= np.float32(1 / 16)
    return out


def _resize(image: np.ndarray, size: int, method=Image.BILINEAR) -> np.ndarray:
    """Resample a float image to ``size`` x ``size`` (pixel centres stay aligned)."""
    if image.shape[0] == size and image.shape[1] == size:
        return np.asarray(image, dtype=np.float32)
    if method == Image.BILINEAR and size > image.shape[0] == image.shape[1]:
        return _upsample(np.asarray(image, dtype=np.float32), size)
    pil = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32), mode="F")
    return np.array(pil.resize((size, size), method), dtype=np.float32)


@functools.lru_cache(maxsize=16)
def _taps(cells: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation from ``cells`` to ``size`` pixel centres (edges held): the two
    source indices of each output pixel and their weights."""
    position = (np.arange(size) + 0.5) * (cells / size) - 0.5
    low = np.floor(position).astype(np.int64)
    weight = (position - low).astype(np.float32)
    return np.clip(low, 0, cells - 1), np.clip(low + 1, 0, cells - 1), 1 - weight, weight


def _upsample(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear enlargement of a square float32 image (the same as PIL's bilinear resize
    up, to float32 rounding, without the copies in and out of PIL)."""
    first, second, w_first, w_second = _taps(image.shape[0], size)
    rows = np.take(image, first, axis=0)
    rows *= w_first[:, None]
    rows += np.take(image, second, axis=0) * w_second[:, None]
    out = np.take(rows, first, axis=1)
    out *= w_first
    out += np.take(rows, second, axis=1) * w_second
    return out


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean of ``factor`` x ``factor`` blocks (rows, then columns: strided sums are ten
    times faster than a reshaped mean on these small images)."""
    rows = np.array(image[0::factor], dtype=np.float32)
    for i in range(1, factor):
        rows += image[i::factor]
    out = rows[:, 0::factor].copy()
    for j in range(1, factor):
        out += rows[:, j::factor]
    out *= np.float32(1 / (factor * factor))
    return out


def _lowpass(image: np.ndarray, sigma_mm: float, pixel_mm: float) -> np.ndarray:
    """Gaussian blur of ``sigma_mm``: block average down by an integer factor that leaves
    about 1.5 px of blur (a 2 px blur too), Gaussian there, bilinear back up (a wide blur
    costs no more than a narrow one; no BLAS, so no thread pool to wake for a small
    image). The Gaussian is narrowed by the blur of the block average and of the bilinear
    interpolation, so that the whole is a blur of ``sigma_mm``."""
    size = image.shape[0]
    sigma = sigma_mm / pixel_mm
    factor = max(1, int(sigma / 1.5))
    if factor == 1 and sigma >= 2:  # a 2 px blur is cheaper on a half grid
        factor = 2
    while size % factor:
        factor -= 1
    if factor == 1:
        return _gaussian(image, sigma)
    small = _block_mean(image, factor)
    # variance (in pixels^2) added by the block mean, (f^2 - 1) / 12, and the bilinear
    # interpolation back up, f^2 / 6
    residual = sigma * sigma - (factor * factor - 1) / 12 - factor * factor / 6
    small = _gaussian(small, math.sqrt(max(residual, 0.25)) / factor)
    return _resize(small, size, Image.BILINEAR)


@functools.lru_cache(maxsize=32)
def _gaussian_weights(sigma: float) -> np.ndarray:
    """The weights ``ndimage.gaussian_filter`` correlates with (truncate 3), read back
    from the filter of an impulse (exact: one product by 1.0 per tap)."""
    radius = int(3.0 * sigma + 0.5)
    impulse = np.zeros(2 * radius + 1)
    impulse[radius] = 1.0
    return ndimage.gaussian_filter1d(impulse, sigma, mode="constant", truncate=3.0)[::-1].copy()


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """``ndimage.gaussian_filter(image, sigma, mode="nearest", truncate=3.0)`` of a 2-D
    float32 image, the same two passes with the kernel cached (its set-up costs more
    than filtering a small image)."""
    weights = _gaussian_weights(float(sigma))
    out = np.empty_like(image)
    ndimage.correlate1d(image, weights, 0, out, mode="nearest")
    ndimage.correlate1d(out, weights, 1, out, mode="nearest")
    return out
