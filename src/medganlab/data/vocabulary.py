"""The NIH ChestX-ray14 vocabulary the course uses: the single home of the findings.

Everything that names findings imports them from here — the phantom generator, the real-data
loader (:mod:`medganlab.data.nih`), the evaluation code and the notebooks — so a real NIH
folder and a phantom folder speak the same labels.
"""

from __future__ import annotations

__all__ = ["FINDINGS", "NO_FINDING", "NIH_TOTAL", "NIH_COUNTS"]

# The eight findings of the chest X-ray GAN paper (a subset of NIH's fourteen), in order.
FINDINGS: tuple[str, ...] = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
)
NO_FINDING = "No Finding"
# Images per label in NIH ChestX-ray14 (SPEC §D): the prevalence the phantom imitates.
NIH_TOTAL = 112_120
NIH_COUNTS: dict[str, int] = {
    "No Finding": 60_361,
    "Infiltration": 19_894,
    "Effusion": 13_317,
    "Atelectasis": 11_559,
    "Nodule": 6_331,
    "Mass": 5_782,
    "Pneumothorax": 5_302,
    "Cardiomegaly": 2_776,
    "Pneumonia": 1_431,
}
