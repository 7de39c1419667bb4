"""A gallery for side-by-side reading: a phantom of every finding (and a normal film),
each with the radiographic sign it is drawn from, beside an optional real radiograph.

``medganlab data cxr --gallery [PNG] [--real FILM]``. The real film is only read (and
shown); nothing of it is written anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from medganlab.data.cxr.rendering import CxrCase, render_case
from medganlab.data.vocabulary import FINDINGS

__all__ = ["SIGNS", "panel_note", "gallery_cases", "write_gallery"]

# The radiographic sign each finding is drawn from (written with its panel).
SIGNS: dict[str, str] = {
    "Normal": "clear lungs, sharp CP angles, CTR < 0.5",
    "Atelectasis": "linear/wedge opacity, volume loss",
    "Cardiomegaly": "enlarged heart, CTR > 0.5",
    "Effusion": "meniscus, blunted CP angle",
    "Infiltration": "ill-defined patchy opacity",
    "Mass": "round opacity > 3 cm",
    "Nodule": "round opacity <= 3 cm",
    "Pneumonia": "lobar consolidation, air bronchograms",
    "Pneumothorax": "pleural line, no markings, lucency",
}


def panel_note(title: str, meta: dict[str, Any]) -> str:
    """``"<title>: <sign>"`` and, on a second line, the numbers that show it (CTR,
    diameter, lobe or side, severity)."""
    note = SIGNS[title]
    spec = meta["findings"].get(title, {})
    details = []
    if title in ("Normal", "Cardiomegaly"):
        details.append(f"CTR {meta['ctr']:.2f}")
    if "diameter_mm" in spec:
        details.append(f"{spec['diameter_mm']:.0f} mm")
    if "lobe" in spec:
        details.append(spec["lobe"])
    elif "form" in spec:
        details.append(f"{spec['form']}, {spec['side']}")
    elif "side" in spec and title != "Cardiomegaly":
        details.append(spec["side"])
    if "severity" in spec:
        details.append(f"severity {spec['severity']:.2f}")
    return f"{title}: {note}\n" + ", ".join(details)


def gallery_cases(seed: int = 0, size: int = 512) -> list[tuple[str, CxrCase]]:
    """A normal film and one film of each finding (one label each), seeds ``seed``+k."""
    names = ["Normal", *FINDINGS]
    return [
        (name, render_case(seed + k, [] if name == "Normal" else [name], size=size, masks=True))
        for k, name in enumerate(names)
    ]


def _read_film(path: Path, size: int) -> np.ndarray:
    """A real radiograph as 8-bit greyscale, its longer side scaled to ``size``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--real {path}: no such image file (expected a PNG or JPEG)")
    try:
        image = Image.open(path)
        image.load()
    except OSError as error:
        raise ValueError(f"--real {path}: not an image PIL can read ({error})") from None
    image = image.convert("L")
    scale = size / max(image.size)
    shape = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return np.asarray(image.resize(shape, Image.LANCZOS))


def write_gallery(path: Path, real: Path | None = None, seed: int = 0, size: int = 512) -> Path:
    """Draw the gallery to ``path`` (PNG): the real film first when given, then a normal
    phantom and one of each finding, the sign written above every panel.

    Args:
        path: Output PNG.
        real: A real PA radiograph (PNG/JPEG) to read beside the phantoms (only read).
        seed: Seed of the first phantom (the others follow).
        size: Phantom size in pixels.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: list[tuple[np.ndarray, str]] = []
    if real is not None:
        film = _read_film(Path(real), size)
        panels.append((film, f"Real film: {Path(real).name}\n(for comparison; not written)"))
    for title, case in gallery_cases(seed, size):
        panels.append((case.image, panel_note(title, case.meta)))
    columns = 5 if len(panels) == 10 else 3
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.7 * columns, 4.3 * rows))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, (image, note) in zip(np.ravel(axes), panels, strict=False):
        axis.imshow(image, cmap="gray", vmin=0, vmax=255)
        axis.set_title(note, fontsize=8.5)
    figure.suptitle(
        "MedGAN Lab chest X-ray phantom (PA, MONOCHROME2): the sign of each finding"
        + (" beside a real film" if real is not None else ""),
        fontsize=11,
    )
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
