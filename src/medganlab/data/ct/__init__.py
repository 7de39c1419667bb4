"""Kidney-tumour abdominal CT phantom: 3-D volumes in HU with KiTS19 labels.

Every case is a made-up patient described in physical millimetres (body size, fat, spine,
vessels, organs, kidneys, tumours), so the same seed shows the same patient at any in-plane
size (64-512) and slice thickness (1-5 mm). Slices are rendered one at a time:

* patient coordinates: ``x`` to the patient's left (image right), ``y`` posterior (image
  down), ``z`` superior; volume axis 0 runs cranial -> caudal (slice 0 is the highest);
* HU per tissue inside the ranges of SPEC.md section D (arterial / corticomedullary phase);
* labels 0 background, 1 kidney, 2 tumour (tumour overrides kidney), as KiTS19;
* partial-volume blur (sub-slices averaged across the slice thickness, in-plane point
  spread) and correlated noise of 10-20 HU.

``generate_dataset`` writes a DICOM CT series per case (plus labels and metadata, and
optionally the KiTS19 NIfTI layout) into an atomic, checksummed folder. The package imports
only NumPy and SciPy at module level (the command line imports it).

One module per concern (imports run one way, tested): :mod:`~medganlab.data.ct.anatomy`
(the patient) <- :mod:`~medganlab.data.ct.painting` (one slice) <-
:mod:`~medganlab.data.ct.rendering` (a case's volume) <- :mod:`~medganlab.data.ct.writer`
(the data set) <- :mod:`~medganlab.data.ct.cli`.
"""

from medganlab.data.ct.anatomy import TISSUES
from medganlab.data.ct.cli import add_arguments, run_cli
from medganlab.data.ct.rendering import CtCase, case_seed, render_case
from medganlab.data.ct.writer import DATASET_KIND, FORMAT_VERSION, generate_dataset

__all__ = [
    "TISSUES",
    "CtCase",
    "render_case",
    "generate_dataset",
    "case_seed",
    "add_arguments",
    "run_cli",
    "DATASET_KIND",
    "FORMAT_VERSION",
]
