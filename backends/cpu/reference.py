"""Runs dlib directly (no Triton) on image files: the expected answers for FaceScope's tests.

    python reference.py IMAGE [IMAGE...]
    python reference.py IMAGE --boxes "x1,y1,x2,y2;x1,y1,x2,y2" [--crop 80]
    python reference.py --chip CHIP.rgb     (raw 150x150x3 RGB bytes: prints dlib's descriptor)

For each image: dlib's HOG detector (upsample 1) on the full-resolution RGB image, then the
68-point shape predictor on each detected box. Prints one JSON line per image:

    {"file": ..., "width": W, "height": H,
     "faces": [{"box": [x1, y1, x2, y2], "score": s, "landmarks": [[x, y], ...68]}]}

With --boxes, the detector is skipped and the predictor runs on the given boxes (one image):
the landmark path alone, compared on the same faces. With --crop N the predictor sees what
FPENet's contract gives it: the square about the box's centre (side max(w, h), shifted to stay
inside the image), gray, resized to N x N (Pillow's bilinear), and the points are mapped back.
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
import numpy.typing as npt
from PIL import Image

from facemodels import FaceDetector, FaceEncoder, LandmarkPredictor

DECIMALS = 3


def predict_on_crop(
    predictor: LandmarkPredictor, image: Image.Image, box: tuple[float, ...], size: int
) -> npt.NDArray[np.float32]:
    """The landmarks found on the contract's square gray crop of `box`, in image pixels."""
    x1, y1, x2, y2 = box
    width, height = image.size
    side = min(max(x2 - x1, y2 - y1, 1.0), float(width), float(height))
    x0 = min(max((x1 + x2) / 2 - side / 2, 0.0), width - side)
    y0 = min(max((y1 + y2) / 2 - side / 2, 0.0), height - side)
    crop = image.convert("L").resize((size, size), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side))
    points = predictor.predict(np.asarray(crop), (0, 0, size, size))
    return points * np.float32(side / size) + np.array([x0, y0], dtype=np.float32)


def analyse(
    path: str,
    detector: FaceDetector,
    predictor: LandmarkPredictor,
    boxes: list[tuple[float, ...]] | None = None,
    crop: int | None = None,
) -> dict[str, Any]:
    """The reference result of one image file (on the given boxes, when there are any)."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    pixels = np.asarray(rgb)
    faces = []
    found = [(box, None) for box in boxes] if boxes is not None else [(d.box, d.score) for d in detector.detect(pixels)]
    for box, score in found:
        landmarks = predict_on_crop(predictor, rgb, box, crop) if crop else predictor.predict(pixels, box)
        faces.append(
            {
                "box": [round(float(value), DECIMALS) for value in box],
                "score": None if score is None else round(score, 6),
                "landmarks": [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in landmarks],
            }
        )
    return {"file": path, "width": int(pixels.shape[1]), "height": int(pixels.shape[0]), "faces": faces}


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints one JSON line per image."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE")
    parser.add_argument("--chip", help="a raw 150x150x3 RGB chip: print dlib's 128-D descriptor of it")
    parser.add_argument("--boxes", help="x1,y1,x2,y2 boxes separated by ';': run only the predictor on them")
    parser.add_argument("--crop", type=int, help="run the predictor on an N x N gray crop, as FPENet's input")
    args = parser.parse_args(argv)
    if args.chip is not None:
        chip = np.fromfile(args.chip, dtype=np.uint8)
        if chip.size != 150 * 150 * 3:
            parser.error("a chip is 150x150x3 bytes")
        embedding = FaceEncoder().describe(chip.reshape(1, 150, 150, 3))[0]
        print(json.dumps({"embedding": [float(v) for v in embedding]}))
        return 0
    if not args.images:
        parser.error("name at least one image")
    boxes = None
    if args.boxes is not None:
        if len(args.images) != 1:
            parser.error("--boxes takes exactly one image")
        boxes = [tuple(float(v) for v in b.split(",")) for b in args.boxes.split(";") if b]
        if any(len(b) != 4 for b in boxes):
            parser.error("each box is x1,y1,x2,y2")
    detector = FaceDetector()
    predictor = LandmarkPredictor()
    for path in args.images:
        print(json.dumps(analyse(path, detector, predictor, boxes, args.crop)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
