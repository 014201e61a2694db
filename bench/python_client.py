#!/usr/bin/env python3
"""The reference client for FaceScope's detection benchmark: NVIDIA's official Python client
(tritonclient[http] 2.51) with numpy and Pillow doing the same work as `facescope detect`:

  decode (Pillow, EXIF orientation applied, alpha composited onto black) -> letterbox for FaceNet
  (scale s = min(736/W, 416/H), top-left, bilinear, planar RGB, pixel/255) -> infer `facenet` ->
  GridBox decode (stride 16, +0.5, bbox_norm 35, coverage >= 0.2, greedy NMS IoU 0.5, top-k 20)
  -> boxes back to image pixels -> a square crop per face (side max(w, h) about the centre,
  clamped and shifted inside the image), bilinear to 80x80, gray 0.299R+0.587G+0.114B on 0..255
  -> infer `fpenet` (faces batched, up to 16) -> keypoints back to image pixels -> roll from the
  eye centres and keypoints grouped by region, as the stored document has them.

Tensors travel in HTTP bodies with the binary tensor data extension (the client's default;
its shared-memory helper needs pkg_resources, which current setuptools no longer ships).

It is driven by facescope-bench over stdin/stdout, one JSON line per command, so that one
warmed-up process serves every round of an interleaved run:

  python_client.py --url 127.0.0.1:18000 --concurrency 2 IMAGE...
    -> {"ready": true, "faces": {"IMAGE": n, ...}}      (after one untimed pass over the images)
  stdin "run N"   -> {"images": N, "faces": F, "wall_s": .., "cpu_s": ..}
                     N images (the list repeated) with `concurrency` workers, each with its own
                     client (tritonclient's HTTP client is not thread safe); cpu_s is this
                     process's user+system CPU time (getrusage RUSAGE_SELF) over the run.
  stdin "prep K"  -> {"prep_ms": {"IMAGE": median ms, ...}}
                     decode + FaceNet input only, K times per image, one thread.
  stdin "quit"
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import resource
import sys
import threading
import time

import numpy as np
import tritonclient.http as httpclient
from PIL import Image, ImageOps

NET_W, NET_H = 736, 416
ROWS, COLS = 26, 46
STRIDE, OFFSET, BOX_NORM = 16.0, 0.5, 35.0
COVERAGE_THRESHOLD, NMS_IOU, TOP_K = 0.2, 0.5, 20
CROP = 80
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
REGIONS = [
    ("chin", 0, 16), ("eyebrows", 17, 26), ("nose", 27, 35), ("eyes", 36, 47), ("mouth", 48, 60),
    ("lips", 61, 67), ("pupil", 68, 75), ("ears", 76, 79),
]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def decode(path: str) -> Image.Image:
    """The upright RGB image: EXIF orientation applied, alpha composited onto black."""
    image = Image.open(path)
    image.load()
    image = ImageOps.exif_transpose(image, in_place=False) or image
    if image.mode in ("RGBA", "LA", "PA", "P"):
        # Premultiplied RGBa, then alpha dropped: value * alpha / 255, i.e. onto black.
        image = image.convert("RGBA").convert("RGBa").convert("RGB")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    return image


def facenet_input(image: Image.Image) -> tuple[np.ndarray, float]:
    """Letterboxed at the top-left corner: [1,3,416,736] FP32 planar RGB, pixel/255, and the scale."""
    w, h = image.size
    s = min(NET_W / w, NET_H / h)
    ow = min(NET_W, max(1, int(w * s + 0.5)))
    oh = min(NET_H, max(1, int(h * s + 0.5)))
    small = image.resize((ow, oh), Image.BILINEAR)
    tensor = np.zeros((1, 3, NET_H, NET_W), dtype=np.float32)
    pixels = np.asarray(small, dtype=np.float32)
    np.multiply(pixels.transpose(2, 0, 1), np.float32(1 / 255), out=tensor[0, :, :oh, :ow])
    return tensor, s


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box a with each row of b (x1, y1, x2, y2)."""
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0)


def gridbox_faces(cov: np.ndarray, bbox: np.ndarray, scale: float, w: int, h: int) -> list[tuple]:
    """FaceNet's GridBox decode, NMS, and the boxes in image pixels: [(x1, y1, x2, y2, conf)]."""
    cov = cov.reshape(ROWS, COLS)
    bbox = bbox.reshape(4, ROWS, COLS)
    rows, cols = np.nonzero(cov >= COVERAGE_THRESHOLD)
    if rows.size == 0:
        return []
    ax = STRIDE * cols + OFFSET
    ay = STRIDE * rows + OFFSET
    t = bbox[:, rows, cols].astype(np.float64)
    boxes = np.stack([ax - BOX_NORM * t[0], ay - BOX_NORM * t[1], ax + BOX_NORM * t[2], ay + BOX_NORM * t[3]], 1)
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, NET_W)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, NET_H)
    scores = cov[rows, cols].astype(np.float64)
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    for i in order:
        if len(kept) >= TOP_K:
            break
        if kept and np.any(iou(boxes[i], boxes[kept]) > NMS_IOU):
            continue
        kept.append(int(i))
    faces = []
    for i in kept:
        x1, y1, x2, y2 = boxes[i] / scale
        faces.append((min(max(x1, 0), w), min(max(y1, 0), h), min(max(x2, 0), w), min(max(y2, 0), h), scores[i]))
    return faces


def landmark_square(face: tuple, w: int, h: int) -> tuple[float, float, float]:
    """The square crop about the face centre: side max(w, h), shrunk only to fit, shifted inside."""
    x1, y1, x2, y2 = face[:4]
    side = min(max(x2 - x1, y2 - y1, 1.0), w, h)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    x0 = min(max(cx - side / 2, 0.0), w - side)
    y0 = min(max(cy - side / 2, 0.0), h - side)
    return x0, y0, side


def landmark_input(image: Image.Image, square: tuple[float, float, float]) -> np.ndarray:
    """The 80x80 gray crop, raw 0..255."""
    x0, y0, side = square
    crop = image.resize((CROP, CROP), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side))
    return np.asarray(crop, dtype=np.float32) @ LUMA


def face_document(face: tuple, points: np.ndarray, confidences: np.ndarray) -> dict:
    """The stored shape of one face: box, probability, roll and keypoints by region."""
    left = points[36:42].mean(axis=0)
    right = points[42:48].mean(axis=0)
    rotation = int(round(math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))))
    descriptors = {
        name: {str(i): {"x": float(points[i, 0]), "y": float(points[i, 1])} for i in range(a, b + 1) if confidences[i] > 0}
        for name, a, b in REGIONS
    }
    x1, y1, x2, y2, conf = face
    return {
        "bbox": {"x1": int(round(x1)), "y1": int(round(y1)), "x2": int(round(x2)), "y2": int(round(y2))},
        "probability": min(100, max(0, int(round(100 * conf)))),
        "rotation": rotation,
        "descriptors": descriptors,
    }


class Detector:
    """One worker's client and the whole per-image job."""

    def __init__(self, url: str, landmark_batch: int) -> None:
        self.client = httpclient.InferenceServerClient(url=url, concurrency=1)
        self.landmark_batch = landmark_batch
        self.facenet_outputs = [
            httpclient.InferRequestedOutput("output_cov/Sigmoid", binary_data=True),
            httpclient.InferRequestedOutput("output_bbox/BiasAdd", binary_data=True),
        ]
        self.fpenet_outputs = [
            httpclient.InferRequestedOutput("softargmax", binary_data=True),
            httpclient.InferRequestedOutput("softargmax:1", binary_data=True),
        ]

    def analyze(self, path: str) -> dict:
        image = decode(path)
        w, h = image.size
        tensor, scale = facenet_input(image)
        inp = httpclient.InferInput("input_1", list(tensor.shape), "FP32")
        inp.set_data_from_numpy(tensor, binary_data=True)
        result = self.client.infer("facenet", [inp], outputs=self.facenet_outputs)
        faces = gridbox_faces(
            result.as_numpy("output_cov/Sigmoid"), result.as_numpy("output_bbox/BiasAdd"), scale, w, h)
        documents = []
        for start in range(0, len(faces), self.landmark_batch):
            batch = faces[start:start + self.landmark_batch]
            squares = [landmark_square(face, w, h) for face in batch]
            crops = np.stack([landmark_input(image, sq) for sq in squares])[:, None, :, :]
            inp = httpclient.InferInput("input_face_images", list(crops.shape), "FP32")
            inp.set_data_from_numpy(crops, binary_data=True)
            result = self.client.infer("fpenet", [inp], outputs=self.fpenet_outputs)
            xy = result.as_numpy("softargmax")
            confidence = result.as_numpy("softargmax:1")
            for i, (face, (x0, y0, side)) in enumerate(zip(batch, squares)):
                points = xy[i].astype(np.float64) * (side / CROP) + np.array([x0, y0])
                documents.append(face_document(face, points, confidence[i]))
        return {
            "filename": path, "width": w, "height": h, "portrait": int(h > w), "faces": documents,
        }


class Workers:
    """`concurrency` threads, each owning its Detector for the whole process: the HTTP client is
    gevent-based, and its greenlets must stay on the thread that made them."""

    def __init__(self, url: str, landmark_batch: int, concurrency: int) -> None:
        self.url = url
        self.landmark_batch = landmark_batch
        self.lock = threading.Lock()
        self.jobs: list[queue.Queue] = []
        self.done: queue.Queue = queue.Queue()
        for _ in range(max(1, concurrency)):
            jobs: queue.Queue = queue.Queue()
            self.jobs.append(jobs)
            threading.Thread(target=self.loop, args=(jobs,), daemon=True).start()

    def loop(self, jobs: queue.Queue) -> None:
        detector = Detector(self.url, self.landmark_batch)
        while True:
            job = jobs.get()
            try:
                self.done.put(job(detector))
            except Exception as error:  # noqa: BLE001 - reported to the driver
                self.done.put(error)

    def each(self, job) -> list:
        """Runs job(detector) on every worker at once; their results."""
        for jobs in self.jobs:
            jobs.put(job)
        results = [self.done.get() for _ in self.jobs]
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def run(self, images: list[str], count: int) -> dict:
        """`count` images (the list repeated), each worker pulling the next image."""
        state = {"next": 0, "faces": 0, "errors": []}

        def job(detector: Detector) -> None:
            while True:
                with self.lock:
                    i = state["next"]
                    if i >= count:
                        return
                    state["next"] = i + 1
                path = images[i % len(images)]
                try:
                    found = len(detector.analyze(path)["faces"])
                except Exception as error:  # noqa: BLE001 - reported to the driver
                    with self.lock:
                        state["errors"].append(f"{path}: {error}")
                    continue
                with self.lock:
                    state["faces"] += found

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        self.each(job)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        return {"images": count, "faces": state["faces"], "wall_s": wall, "cpu_s": cpu, "errors": state["errors"][:5]}


def prep(images: list[str], repeats: int) -> dict:
    """Median ms of decode + FaceNet input per image."""
    result = {}
    for path in images:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            facenet_input(decode(path))
            times.append((time.perf_counter() - t0) * 1000)
        result[path] = float(np.median(times))
    return {"prep_ms": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="127.0.0.1:18000")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--landmark-batch", type=int, default=16)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    workers = Workers(args.url, args.landmark_batch, args.concurrency)
    # Warm-up, untimed: every worker does every image once (connections opened, caches warm);
    # the face counts are compared with FaceScope's.
    counts = workers.each(lambda d: {path: len(d.analyze(path)["faces"]) for path in args.images})
    faces = counts[0]
    print(json.dumps({"ready": True, "faces": faces}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "run":
            print(json.dumps(workers.run(args.images, int(words[1]))), flush=True)
        elif words[0] == "prep":
            print(json.dumps(prep(args.images, int(words[1]))), flush=True)
        elif words[0] == "quit":
            break
        else:
            print(json.dumps({"error": f"unknown command {words[0]}"}), flush=True)


if __name__ == "__main__":
    main()
