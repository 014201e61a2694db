"""Triton model `facerec`: dlib's ResNet face descriptor of aligned 150x150 RGB face chips."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Triton's python stub ignores PYTHONPATH: the shared modules live three folders up.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from facemodels import FaceEncoder  # noqa: E402
from tritonmodel import BatchModel  # noqa: E402


class TritonPythonModel(BatchModel):
    """input_chip [N,150,150,3] uint8 -> embedding [N,128]."""

    INPUT = "input_chip"

    def load(self) -> None:
        """Loads the ResNet descriptor model."""
        self._encoder = FaceEncoder()

    def infer(self, batch: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Describes each chip as is (no re-alignment, no jitter)."""
        return {"embedding": self._encoder.describe(batch)}
