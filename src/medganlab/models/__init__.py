"""Reference architectures the course gives (never a graded answer): one per module.

- :func:`heavy_unet` — U-Net2 of the KiTS augmentation paper, Ronneberger et al.'s widths.
- :func:`fpn` — a feature pyramid network segmenter on a ResNet-style encoder, from scratch.
- :func:`build_projection_discriminator` — Miyato & Koyama's projection discriminator, the
  extension beside notebook 02's concatenation.
"""

from medganlab.models.conditional import build_projection_discriminator
from medganlab.models.fpn import fpn
from medganlab.models.unet import heavy_unet

__all__ = ["heavy_unet", "fpn", "build_projection_discriminator"]
