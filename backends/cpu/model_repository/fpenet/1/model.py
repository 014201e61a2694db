"""Triton model `fpenet`: NVIDIA FPENet's tensors, computed by dlib's 68-point shape predictor.

The face rectangle is the whole 80x80 crop (the client crops a square about the face centre with
side max(w, h)). Keypoints 0-67 are the iBUG-300W points with confidence 1; FPENet's pupil and
ear points 68-79 are not computed and come back as (0, 0) with confidence 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Triton's python stub ignores PYTHONPATH: the shared modules live three folders up.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from facemodels import LANDMARK_COUNT, LandmarkPredictor  # noqa: E402
from tritonmodel import BatchModel  # noqa: E402

CROP_SIZE = 80
KEYPOINTS = 80


class TritonPythonModel(BatchModel):
    """input_face_images [N,1,80,80] -> softargmax [N,80,2] (x, y crop pixels), softargmax:1 [N,80]."""

    INPUT = "input_face_images"

    def load(self) -> None:
        """Loads the 68-point shape predictor."""
        self._predictor = LandmarkPredictor()

    def infer(self, batch: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        """Predicts the landmarks of each gray face crop."""
        points = np.zeros((len(batch), KEYPOINTS, 2), dtype=np.float32)
        confidence = np.zeros((len(batch), KEYPOINTS), dtype=np.float32)
        for index, crop in enumerate(batch):
            gray = np.clip(np.rint(crop[0]), 0, 255).astype(np.uint8)
            points[index, :LANDMARK_COUNT] = self._predictor.predict(gray, (0, 0, CROP_SIZE, CROP_SIZE))
            confidence[index, :LANDMARK_COUNT] = 1.0
        return {"softargmax": points, "softargmax:1": confidence}
