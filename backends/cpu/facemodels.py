"""dlib's CPU face models, shared by the Triton models and reference.py.

Coordinates are continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1), so a
box scales with its image and the centre of pixel i is at i + 0.5. A dlib rectangle
(left, top, right, bottom), whose right and bottom are inclusive pixel indices, is the box
(left, top, right + 1, bottom + 1); a dlib landmark at pixel (x, y) is the point (x + 0.5, y + 0.5).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import dlib
import numpy as np
import numpy.typing as npt

LANDMARK_COUNT = 68
DESCRIPTOR_SIZE = 128
CHIP_SIZE = 150
HOG_UPSAMPLE = 1

Box = tuple[float, float, float, float]


def models_dir() -> Path:
    """The folder of face-recognition-models' .dat files.

    Found with importlib: importing face_recognition_models itself needs pkg_resources, which
    recent setuptools no longer ship.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@dataclass(frozen=True)
class Detection:
    """One face found by the HOG detector: its box and dlib's detection score."""

    box: Box
    score: float


class FaceDetector:
    """dlib's HOG frontal face detector, upsampling the image once (finds faces from ~40 px)."""

    def __init__(self) -> None:
        self._detector = dlib.get_frontal_face_detector()

    def detect(self, image: npt.NDArray[np.uint8]) -> list[Detection]:
        """Finds the faces in an RGB (H,W,3) or gray (H,W) uint8 image, strongest first."""
        rects, scores, _ = self._detector.run(np.ascontiguousarray(image), HOG_UPSAMPLE, 0.0)
        detections = [
            Detection((rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1), float(score))
            for rect, score in zip(rects, scores, strict=True)
        ]
        return sorted(detections, key=lambda detection: -detection.score)


class LandmarkPredictor:
    """dlib's 68-point iBUG-300W shape predictor."""

    def __init__(self) -> None:
        self._predictor = dlib.shape_predictor(str(models_dir() / "shape_predictor_68_face_landmarks.dat"))

    def predict(self, image: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.float32]:
        """The 68 landmarks [68,2] (x, y) of the face in box, in image pixels."""
        x1, y1, x2, y2 = (int(round(value)) for value in box)
        shape = self._predictor(np.ascontiguousarray(image), dlib.rectangle(x1, y1, x2 - 1, y2 - 1))
        points = np.array([(part.x, part.y) for part in shape.parts()], dtype=np.float32)
        return points + np.float32(0.5)


class FaceEncoder:
    """dlib's ResNet face descriptor model (128-D; same person below distance 0.6)."""

    def __init__(self) -> None:
        self._model = dlib.face_recognition_model_v1(str(models_dir() / "dlib_face_recognition_resnet_model_v1.dat"))

    def describe(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Descriptors [N,128] of aligned RGB face chips [N,150,150,3], each taken as is."""
        if len(chips) == 0:
            return np.zeros((0, DESCRIPTOR_SIZE), dtype=np.float32)
        batch = [np.ascontiguousarray(chip) for chip in chips]
        return np.array(self._model.compute_face_descriptor(batch), dtype=np.float32)
