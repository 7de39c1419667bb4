"""Procedural PA chest radiograph phantom with the 8 NIH ChestX-ray14 findings.

Each image is formed as a projection: a water-equivalent attenuation map (soft tissue
thickness, minus the air of lungs, trachea and stomach, plus bone) is built from anatomy
defined in millimetres, then processed like a digital radiograph (automatic exposure on
the lung fields, dynamic-range compression, a film curve, unsharp masking, scatter, blur
and detector noise). Anatomy comes from ``patient_seed`` and everything else (findings,
position, exposure) from ``seed``, so follow-up images of one patient share anatomy (and
its cached layers) and a seed gives the same patient at every output size.

The findings are drawn from their radiographic signs (SPEC.md §D) and written with exact
labels, per-image metadata (cardiothoracic ratio measured from the drawn heart and lungs,
lesion boxes, severity, pixel spacing) and optional masks, in the NIH ChestX-ray14 layout
by :func:`generate_dataset`. Course use: assignment 00 (tour), 01–06 (training data).

One module per concern (imports run one way, tested: no cycle):

- :mod:`medganlab.data.vocabulary` — the findings and NIH counts (shared with real data);
- :mod:`~medganlab.data.cxr.anatomy` — the patient, the millimetre grid and the outlines
  (lungs, domes, apices, the cardiomediastinal silhouette);
- :mod:`~medganlab.data.cxr.textures` — shared random textures, noise and cheap blurs;
- :mod:`~medganlab.data.cxr.soft_tissue` — body, arms, breasts, abdominal gas;
- :mod:`~medganlab.data.cxr.vessels` — per-patient vessel trees, hila, airways;
- :mod:`~medganlab.data.cxr.skeleton` — ribs, clavicles, spine, scapulae, humeri;
- :mod:`~medganlab.data.cxr.findings` — the eight findings' signs;
- :mod:`~medganlab.data.cxr.rendering` — attenuation to film, :func:`render_case`;
- :mod:`~medganlab.data.cxr.labels` — label sampling at NIH prevalence;
- :mod:`~medganlab.data.cxr.writer` — the NIH-layout data set, :func:`generate_dataset`;
- :mod:`~medganlab.data.cxr.gallery` — every finding beside a real film, for reading;
- :mod:`~medganlab.data.cxr.cli` — ``medganlab data cxr`` (and ``--gallery``).
"""

from medganlab.data.cxr.anatomy import FIELD_MM, MAX_SIZE, MIN_SIZE
from medganlab.data.cxr.cli import add_arguments, run_cli
from medganlab.data.cxr.labels import normal_abnormal_labels, sample_labels
from medganlab.data.cxr.rendering import GENERATOR_VERSION, CxrCase, render_case
from medganlab.data.cxr.writer import CSV_HEADER, KIND, generate_dataset
from medganlab.data.vocabulary import FINDINGS, NIH_COUNTS, NIH_TOTAL, NO_FINDING

__all__ = [
    "FINDINGS",
    "NO_FINDING",
    "NIH_COUNTS",
    "NIH_TOTAL",
    "FIELD_MM",
    "MIN_SIZE",
    "MAX_SIZE",
    "CSV_HEADER",
    "KIND",
    "GENERATOR_VERSION",
    "CxrCase",
    "render_case",
    "sample_labels",
    "normal_abnormal_labels",
    "generate_dataset",
    "add_arguments",
    "run_cli",
]
