"""Render any DICOM image the course writes or reads (a CT slice or series, a DX/CR
radiograph) to an 8-bit PNG: the one place that knows both modalities."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medganlab.data.dicom.core import read_dataset, window
from medganlab.data.dicom.ct import dicom_files, read_ct_slice
from medganlab.data.dicom.dx import render_dx_png

__all__ = ["render_png"]

_PROJECTION_MODALITIES = {"DX", "CR", "MG"}


def render_png(
    path: Path, out_png: Path, center: float | None = None, width: float | None = None
) -> Path:
    """Render a DICOM file (or the middle slice of a series folder) to an 8-bit PNG.

    The window comes from the file (WindowCenter/WindowWidth; W400/L0 if absent) unless
    given. DX/CR/MG radiographs are handed to :func:`medganlab.data.dicom.dx.render_dx_png`.
    """
    from PIL import Image

    path = Path(path)
    if path.is_dir():
        files = dicom_files(path)
        positions = []
        for file in files:
            ds = read_dataset(file, stop_before_pixels=True)
            position = getattr(ds, "ImagePositionPatient", None)
            positions.append(
                float(position[2])
                if position is not None
                else float(getattr(ds, "InstanceNumber", 0) or 0)
            )
        path = files[int(np.argsort(positions)[len(files) // 2])]
    ds = read_dataset(path, stop_before_pixels=True)
    modality = str(getattr(ds, "Modality", ""))
    if modality in _PROJECTION_MODALITIES:
        window_arg = None if center is None and width is None else (center, width)
        return render_dx_png(path, out_png, window_arg)
    hu, meta = read_ct_slice(path)
    center = meta["window_center"] if center is None else center
    width = meta["window_width"] if width is None else width
    image = window(hu, 0.0 if center is None else center, 400.0 if width is None else width)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round((image + 1.0) * 127.5).astype(np.uint8)).save(out_png)
    return out_png
