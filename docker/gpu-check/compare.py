"""GPU check: the GPU server's preprocessing against the client's, on real image files.

For each image it sends the file's bytes to `facenet_preprocess` (DALI on the GPU) and compares
the tensor with the client's FaceNet input for the same file, computed here the client's way:
EXIF orientation applied, RGB, the whole image stretched to 736x416 with a triangle filter that
widens when shrinking (Pillow's BILINEAR, which FaceScope's resampler reproduces: see
Sources/FaceScopeImaging/Preprocess.swift), planar, pixel/255. Then it runs FaceNet both ways, the
ensemble `facenet_encoded` on the bytes and `facenet` on the client's tensor, and compares the
coverage grids. Prints one line per image and a summary; exits 1 when an image is off.

    python compare.py --url HOST:PORT [IMAGE...]

Runs where tritonclient[http], numpy and Pillow are installed: docker/gpu-check.sh runs it in the
triton-cpu image. Not part of CI (it needs the GPU server).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

WIDTH = 736
HEIGHT = 416
COVERAGE = "output_cov/Sigmoid"
BOXES = "output_bbox/BiasAdd"
THRESHOLD = 0.2
ROOT = Path(__file__).resolve().parents[2]
# JPEGs with every EXIF orientation, progressive and gray JPEGs, PNGs with and without alpha,
# WebP, the sample photos. CMYK JPEGs are left out: DALI's decoders do not read them as the
# client does (Adobe-inverted CMYK).
DEFAULT_IMAGES = [
    *(f"Tests/Fixtures/images/orient-{n}.jpg" for n in range(1, 9)),
    "Tests/Fixtures/images/progressive.jpg",
    "Tests/Fixtures/images/gray.jpg",
    "Tests/Fixtures/images/orient-6.png",
    "Tests/Fixtures/images/palette-alpha.png",
    "Tests/Fixtures/images/lossy.webp",
    "samples/portrait-grace-hopper.jpg",
    "samples/starry-night.jpg",
    "samples/portrait-astronaut.png",
]


@dataclass
class Tolerances:
    """How far the GPU's tensor and detections may be from the client's (values on the 0..1 scale)."""

    mean: float = 0.01  # mean |difference| over the tensor: 2.6 grey levels
    p99: float = 0.06  # 99th percentile: 15 levels (JPEG decoders differ at edges)
    coverage: float = 0.1  # largest coverage difference in FaceNet's grid
    cells: float = 0.8  # Jaccard index of the grid cells above the threshold, both ways


@dataclass
class Result:
    """One image's comparison."""

    name: str
    shape_ok: bool
    mean: float
    p99: float
    coverage: float
    cells: float
    encoded_bytes: int
    problems: list[str]


def client_tensor(path: Path) -> tuple[npt.NDArray[np.float32], tuple[int, int, int]]:
    """The client's FaceNet input (stretch) for an image file, and the oriented image's shape."""
    with Image.open(path) as image:
        oriented = ImageOps.exif_transpose(image).convert("RGB")
    shape = (oriented.height, oriented.width, 3)
    resized = oriented.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR, reducing_gap=None)
    pixels = np.asarray(resized, dtype=np.float32) / np.float32(255)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)), shape


def jaccard(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    """|a & b| / |a | b|, 1 when both are empty."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def judge(
    name: str,
    gpu: npt.NDArray[np.float32],
    reference: npt.NDArray[np.float32],
    gpu_shape: tuple[int, ...],
    shape: tuple[int, int, int],
    coverage_encoded: npt.NDArray[np.float32],
    coverage_raw: npt.NDArray[np.float32],
    encoded_bytes: int,
    tolerances: Tolerances,
) -> Result:
    """Compares one image's tensors and coverage grids."""
    problems = []
    if gpu.shape != reference.shape:
        problems.append(f"tensor shape {gpu.shape}, expected {reference.shape}")
        return Result(name, False, float("inf"), float("inf"), float("inf"), 0.0, encoded_bytes, problems)
    difference = np.abs(gpu.astype(np.float64) - reference.astype(np.float64))
    mean = float(difference.mean())
    p99 = float(np.percentile(difference, 99))
    coverage = float(np.abs(coverage_encoded - coverage_raw).max())
    cells = jaccard(coverage_encoded >= THRESHOLD, coverage_raw >= THRESHOLD)
    shape_ok = tuple(int(v) for v in gpu_shape) == shape
    if not shape_ok:
        problems.append(f"image_shape {tuple(gpu_shape)}, expected {shape} (EXIF orientation?)")
    if mean > tolerances.mean:
        problems.append(f"mean difference {mean:.4f} > {tolerances.mean}")
    if p99 > tolerances.p99:
        problems.append(f"99th percentile {p99:.4f} > {tolerances.p99}")
    if coverage > tolerances.coverage:
        problems.append(f"coverage difference {coverage:.3f} > {tolerances.coverage}")
    if cells < tolerances.cells:
        problems.append(f"cells above {THRESHOLD} agree {cells:.2f} < {tolerances.cells}")
    return Result(name, shape_ok, mean, p99, coverage, cells, encoded_bytes, problems)


def check(url: str, paths: list[Path], tolerances: Tolerances) -> list[Result]:
    """Runs every image through the server both ways."""
    import tritonclient.http as http  # noqa: PLC0415 - only needed against a server

    client = http.InferenceServerClient(url=url, network_timeout=120.0)
    for model in ("facenet", "facenet_preprocess", "facenet_encoded"):
        if not client.is_model_ready(model):
            raise SystemExit(f"model {model} is not ready on {url}")

    def run(model: str, name: str, array: npt.NDArray, datatype: str, outputs: list[str]) -> dict:
        tensor = http.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=True)
        wanted = [http.InferRequestedOutput(o, binary_data=True) for o in outputs]
        reply = client.infer(model, [tensor], outputs=wanted)
        return {o: reply.as_numpy(o) for o in outputs}

    results = []
    timings: dict[str, list[float]] = {"encoded": [], "raw": []}
    for path in paths:
        data = np.frombuffer(path.read_bytes(), dtype=np.uint8)[None, :]
        reference, shape = client_tensor(path)
        pre = run("facenet_preprocess", "image_bytes", data, "UINT8", ["input_1", "image_shape"])
        started = time.perf_counter()
        encoded = run("facenet_encoded", "image_bytes", data, "UINT8", [COVERAGE, BOXES, "image_shape"])
        timings["encoded"].append(time.perf_counter() - started)
        started = time.perf_counter()
        raw = run("facenet", "input_1", reference[None], "FP32", [COVERAGE, BOXES])
        timings["raw"].append(time.perf_counter() - started)
        results.append(
            judge(
                str(path), pre["input_1"][0], reference, tuple(pre["image_shape"][0]), shape,
                encoded[COVERAGE][0], raw[COVERAGE][0], data.size, tolerances,
            )
        )
    for kind, values in timings.items():
        print(f"{kind:8s} FaceNet requests: median {1000 * float(np.median(values)):.1f} ms", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="triton-server:8000", help="the GPU server's HTTP endpoint")
    parser.add_argument("images", nargs="*", type=Path, help="image files (default: fixtures and samples)")
    args = parser.parse_args(argv)
    paths = args.images or [ROOT / p for p in DEFAULT_IMAGES]
    results = check(args.url, paths, Tolerances())
    failed = 0
    print(f"{'image':52s} {'shape':5s} {'mean':>7s} {'p99':>7s} {'cov':>6s} {'cells':>5s} {'bytes':>9s}")
    for r in results:
        print(
            f"{Path(r.name).name:52s} {'ok' if r.shape_ok else 'BAD':5s} {r.mean:7.4f} {r.p99:7.4f} "
            f"{r.coverage:6.3f} {r.cells:5.2f} {r.encoded_bytes:9d}"
        )
        for problem in r.problems:
            print(f"    FAIL {problem}")
        failed += bool(r.problems)
    tensor_bytes = 3 * HEIGHT * WIDTH * 4
    sent = sum(r.encoded_bytes for r in results) / max(1, len(results))
    print(f"{len(results) - failed} passed, {failed} failed")
    print(f"bytes per image: {sent:.0f} encoded vs {tensor_bytes} as a tensor", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
