"""DICOM I/O of the course: one shared core, CT and DX on top, no import cycle.

- :mod:`~medganlab.data.dicom.core` — UIDs, file meta, the study date, reading with clear
  errors, windowing to [-1, 1] and to 8-bit;
- :mod:`~medganlab.data.dicom.ct` — axial CT series in Hounsfield units (KiTS19-like);
- :mod:`~medganlab.data.dicom.dx` — chest radiographs (DX/CR, MONOCHROME1/2, JPEG);
- :mod:`~medganlab.data.dicom.render` — any of them to a PNG.

``core`` imports neither modality; ``ct`` and ``dx`` import only ``core``; ``render`` imports
all three.
"""

from medganlab.data.dicom.core import (
    STUDY_DATE,
    deterministic_uid,
    file_meta,
    read_dataset,
    to_uint8,
    window,
)
from medganlab.data.dicom.ct import (
    CT_IMAGE_STORAGE,
    read_ct_series,
    read_ct_slice,
    write_ct_series,
)
from medganlab.data.dicom.dx import (
    CR_STORAGE,
    DX_PRESENTATION_STORAGE,
    read_dx,
    render_dx_png,
    write_dx,
)
from medganlab.data.dicom.render import render_png

__all__ = [
    "STUDY_DATE",
    "deterministic_uid",
    "file_meta",
    "read_dataset",
    "window",
    "to_uint8",
    "CT_IMAGE_STORAGE",
    "write_ct_series",
    "read_ct_slice",
    "read_ct_series",
    "DX_PRESENTATION_STORAGE",
    "CR_STORAGE",
    "write_dx",
    "read_dx",
    "render_dx_png",
    "render_png",
]
