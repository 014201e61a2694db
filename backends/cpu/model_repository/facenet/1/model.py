"""Triton model `facenet`: NVIDIA FaceNet's tensors, computed by dlib's HOG face detector.

Each frame [3,416,736] (planar RGB, pixel/255, letterboxed at the top-left corner) becomes a
uint8 image again; the faces dlib finds in it are encoded into the GridBox outputs so that the
standard decode (threshold 0.2, NMS 0.5) returns them exactly, with coverage 0.5 + 0.5*tanh(score).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Triton's python stub ignores PYTHONPATH: the shared modules live three folders up.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import grid  # noqa: E402
from facemodels import FaceDetector  # noqa: E402
from tritonmodel import BatchModel  # noqa: E402

_MAX_COVERAGE = float(np.nextafter(np.float32(1.0), np.float32(0.0)))


def frame_to_image(frame: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """A planar RGB frame [3,H,W] of pixel/255 values back to an 8-bit RGB image [H,W,3]."""
    pixels = np.clip(np.rint(frame * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(pixels.transpose(1, 2, 0))


def coverage(score: float) -> float:
    """Maps a dlib HOG score (> 0 for a detection) monotonically into [0.5, 1)."""
    return min(0.5 + 0.5 * float(np.tanh(max(score, 0.0))), _MAX_COVERAGE)


class TritonPythonModel(BatchModel):
    """input_1 [N,3,416,736] -> output_cov/Sigmoid [N,1,26,46], output_bbox/BiasAdd [N,4,26,46]."""

    INPUT = "input_1"

    def load(self) -> None:
        """Creates the HOG detector."""
        self._detector = FaceDetector()

    def infer(self, batch: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        """Detects the faces of each frame and encodes them into the grid."""
        covs = np.zeros((len(batch), 1, grid.GRID_ROWS, grid.GRID_COLS), dtype=np.float32)
        bboxes = np.zeros((len(batch), 4, grid.GRID_ROWS, grid.GRID_COLS), dtype=np.float32)
        for index, frame in enumerate(batch):
            detections = self._detector.detect(frame_to_image(frame))
            boxes = grid.clip_boxes([detection.box for detection in detections])
            scores = [coverage(detection.score) for detection in detections]
            covs[index], bboxes[index] = grid.encode(boxes, scores)
        return {"output_cov/Sigmoid": covs, "output_bbox/BiasAdd": bboxes}
