"""Runs dlib directly (no Triton) on image files: the expected answers for FaceScope's tests.

    python reference.py IMAGE [IMAGE...]

For each image: dlib's HOG detector (upsample 1) on the full-resolution RGB image, then the
68-point shape predictor on each detected box. Prints one JSON line per image:

    {"file": ..., "width": W, "height": H,
     "faces": [{"box": [x1, y1, x2, y2], "score": s, "landmarks": [[x, y], ...68]}]}

Faces strongest first. Coordinates are continuous image pixels (see facemodels): box = dlib's
rectangle (left, top, right + 1, bottom + 1), landmark = dlib's point + 0.5. The score is dlib's
raw HOG score, not FaceNet's coverage. The image is decoded as stored (no EXIF rotation) and
converted to 8-bit RGB (alpha dropped).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
from PIL import Image

from facemodels import FaceDetector, LandmarkPredictor

DECIMALS = 3


def analyse(path: str, detector: FaceDetector, predictor: LandmarkPredictor) -> dict[str, Any]:
    """The reference result of one image file."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    faces = []
    for detection in detector.detect(pixels):
        landmarks = predictor.predict(pixels, detection.box)
        faces.append(
            {
                "box": [round(float(value), DECIMALS) for value in detection.box],
                "score": round(detection.score, 6),
                "landmarks": [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in landmarks],
            }
        )
    return {"file": path, "width": int(pixels.shape[1]), "height": int(pixels.shape[0]), "faces": faces}


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints one JSON line per image."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    args = parser.parse_args(argv)
    detector = FaceDetector()
    predictor = LandmarkPredictor()
    for path in args.images:
        print(json.dumps(analyse(path, detector, predictor)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
