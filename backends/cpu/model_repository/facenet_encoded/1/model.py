"""Triton model `facenet_encoded`: FaceNet's outputs from an encoded image file's bytes.

The CPU counterpart of the GPU server's DALI ensemble. Each row of image_bytes [N, nbytes] is one
file (JPEG, PNG, WebP...; rows of a batch may be zero-padded to one length). Pillow decodes it to
RGB with the EXIF orientation applied (alpha composited onto black, as the client decodes); the
image is letterboxed into 736x416 at the top-left corner as the client does for `facenet`, and
the faces dlib finds are encoded into the GridBox grid exactly as `facenet` encodes them.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

# Triton's python stub ignores PYTHONPATH: the shared modules live three folders up.
BACKEND = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(BACKEND))

import grid  # noqa: E402
from facemodels import FaceDetector  # noqa: E402
from tritonmodel import BatchModel  # noqa: E402


def _facenet_module() -> object:
    """facenet's model.py (its coverage mapping), loaded under its own name."""
    path = BACKEND / "model_repository" / "facenet" / "1" / "model.py"
    spec = importlib.util.spec_from_file_location("facescope_cpu_facenet", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_FACENET = _facenet_module()
coverage = _FACENET.coverage  # type: ignore[attr-defined]


def decode(data: bytes) -> npt.NDArray[np.uint8]:
    """An encoded image as upright 8-bit RGB [H,W,3]: EXIF orientation applied, alpha onto black."""
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        if has_alpha:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.uint32)
            alpha = rgba[:, :, 3:4]
            return ((rgba[:, :, :3] * alpha + 127) // 255).astype(np.uint8)
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def letterbox(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The 736x416 RGB frame of an image scaled by min(736/W, 416/H) at the top-left corner."""
    height, width = image.shape[:2]
    scale = min(grid.NET_WIDTH / width, grid.NET_HEIGHT / height)
    size = (min(grid.NET_WIDTH, max(1, round(width * scale))), min(grid.NET_HEIGHT, max(1, round(height * scale))))
    resized = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
    frame = np.zeros((grid.NET_HEIGHT, grid.NET_WIDTH, 3), dtype=np.uint8)
    frame[: size[1], : size[0]] = resized
    return frame


class TritonPythonModel(BatchModel):
    """image_bytes [N,nbytes] -> output_cov/Sigmoid [N,1,26,46], output_bbox/BiasAdd [N,4,26,46],
    image_shape [N,3] (height, width, 3)."""

    INPUT = "image_bytes"

    def load(self) -> None:
        """Creates the HOG detector."""
        self._detector = FaceDetector()

    def infer(self, batch: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Decodes, letterboxes and detects each image; encodes its faces into the grid."""
        covs = np.zeros((len(batch), 1, grid.GRID_ROWS, grid.GRID_COLS), dtype=np.float32)
        bboxes = np.zeros((len(batch), 4, grid.GRID_ROWS, grid.GRID_COLS), dtype=np.float32)
        shapes = np.zeros((len(batch), 3), dtype=np.int32)
        for index, row in enumerate(batch):
            image = decode(np.ascontiguousarray(row, dtype=np.uint8).tobytes())
            shapes[index] = (image.shape[0], image.shape[1], 3)
            detections = self._detector.detect(letterbox(image))
            boxes = grid.clip_boxes([detection.box for detection in detections])
            scores = [coverage(detection.score) for detection in detections]
            covs[index], bboxes[index] = grid.encode(boxes, scores)
        return {"output_cov/Sigmoid": covs, "output_bbox/BiasAdd": bboxes, "image_shape": shapes}  # type: ignore[dict-item]
