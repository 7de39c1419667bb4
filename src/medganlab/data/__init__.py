"""Data generation, reading and pipelines (phantoms, DICOM, NIH / KiTS19 layouts)."""
