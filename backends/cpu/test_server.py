"""Tests of the running CPU Triton backend, through tritonclient[http] and plain HTTP.

Skipped unless FACESCOPE_TRITON_URL (host:port, e.g. 127.0.0.1:18000) points at it:

    scripts/services.sh start triton
    FACESCOPE_TRITON_URL=127.0.0.1:18000 .services/venv/bin/python -m pytest backends/cpu -q
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from multiprocessing import shared_memory
from pathlib import Path
from typing import Any

import dlib
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import grid
from facemodels import FaceDetector, LandmarkPredictor, models_dir

URL = os.environ.get("FACESCOPE_TRITON_URL", "").removeprefix("http://").rstrip("/")
# The sample photos: beside the checkout (../shared/data) unless FACESCOPE_SAMPLE_DATA names them.
REPO = Path(__file__).resolve().parents[2]
FACES = Path(os.environ.get("FACESCOPE_SAMPLE_DATA", REPO.parent / "shared" / "data")) / "faces"
GRACE_HOPPER = FACES / "portrait-grace-hopper.jpg"
FOOTBALL = FACES / "portrait-football.jpg"
GROUP = FACES / "group-6-faces.jpg"

pytestmark = pytest.mark.skipif(not URL, reason="FACESCOPE_TRITON_URL is not set")

CONTRACT: dict[str, dict[str, list[tuple[str, str, list[int]]]]] = {
    "facenet": {
        "inputs": [("input_1", "FP32", [3, 416, 736])],
        "outputs": [("output_cov/Sigmoid", "FP32", [1, 26, 46]), ("output_bbox/BiasAdd", "FP32", [4, 26, 46])],
    },
    "fpenet": {
        "inputs": [("input_face_images", "FP32", [1, 80, 80])],
        "outputs": [("softargmax", "FP32", [80, 2]), ("softargmax:1", "FP32", [80])],
    },
    "facerec": {
        "inputs": [("input_chip", "UINT8", [150, 150, 3])],
        "outputs": [("embedding", "FP32", [128])],
    },
    "facenet_encoded": {
        "inputs": [("image_bytes", "UINT8", [-1])],
        "outputs": [
            ("output_cov/Sigmoid", "FP32", [1, 26, 46]),
            ("output_bbox/BiasAdd", "FP32", [4, 26, 46]),
            ("image_shape", "INT32", [3]),
        ],
    },
}
LETTERBOXED = ("facenet", "facenet_encoded")
MAX_BATCH_SIZE = 16


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A tritonclient HTTP client of the server under test."""
    import tritonclient.http as httpclient

    triton = httpclient.InferenceServerClient(url=URL)
    yield triton
    triton.close()


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """An image file as 8-bit RGB [H,W,3]."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def letterbox(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], float]:
    """The FaceNet input [3,416,736] of an image, letterboxed at the top-left corner, and its scale."""
    height, width = image.shape[:2]
    scale = min(grid.NET_WIDTH / width, grid.NET_HEIGHT / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
    frame = np.zeros((grid.NET_HEIGHT, grid.NET_WIDTH, 3), dtype=np.float32)
    frame[: size[1], : size[0]] = resized / np.float32(255.0)
    return np.ascontiguousarray(frame.transpose(2, 0, 1)), scale


def face_crop(
    image: npt.NDArray[np.uint8], box: tuple[float, ...]
) -> tuple[npt.NDArray[np.float32], float, float, float]:
    """The FPENet input [1,80,80] of a face, with the crop's x0, y0 and side for mapping back.

    The crop is a square about the box centre with side max(w, h), clamped to the image, in luma.
    """
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1)
    height, width = image.shape[:2]
    side = min(side, width, height)
    x0 = min(max((x1 + x2 - side) / 2, 0.0), width - side)
    y0 = min(max((y1 + y2 - side) / 2, 0.0), height - side)
    gray = Image.fromarray(image).convert("L")
    crop = gray.resize((80, 80), Image.Resampling.BILINEAR, box=(x0, y0, x0 + side, y0 + side))
    return np.asarray(crop, dtype=np.float32)[None], x0, y0, side


def infer(
    client: Any, model: str, inputs: dict[str, npt.NDArray[Any]], outputs: list[str]
) -> dict[str, npt.NDArray[Any]]:
    """Runs one request with binary tensors; returns the named outputs."""
    import tritonclient.http as httpclient

    request_inputs = []
    for name, value in inputs.items():
        tensor = httpclient.InferInput(name, list(value.shape), "UINT8" if value.dtype == np.uint8 else "FP32")
        tensor.set_data_from_numpy(value, binary_data=True)
        request_inputs.append(tensor)
    requested = [httpclient.InferRequestedOutput(name, binary_data=True) for name in outputs]
    result = client.infer(model, request_inputs, outputs=requested)
    return {name: result.as_numpy(name) for name in outputs}


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    ax1, ay1, ax2, ay2 = np.asarray(a, dtype=np.float64)
    bx1, by1, bx2, by2 = np.asarray(b, dtype=np.float64)
    intersection = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - intersection
    return float(intersection / union)


def post(path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """A plain HTTP POST without any access-token header; returns (status, JSON body)."""
    request = urllib.request.Request(f"http://{URL}{path}", data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            text = reply.read()
            return reply.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("model", sorted(CONTRACT))
def test_metadata_and_config_match_the_contract(client: Any, model: str) -> None:
    """Names, datatypes, shapes, max_batch_size 16, dynamic batching, strict python-backend config."""
    assert client.is_model_ready(model)
    metadata = client.get_model_metadata(model)
    config = client.get_model_config(model)
    for kind in ("inputs", "outputs"):
        expected = [(name, dtype, [-1, *dims]) for name, dtype, dims in CONTRACT[model][kind]]
        assert [(t["name"], t["datatype"], t["shape"]) for t in metadata[kind]] == expected
        declared = config["input" if kind == "inputs" else "output"]
        expected_config = [(name, f"TYPE_{dtype}", dims) for name, dtype, dims in CONTRACT[model][kind]]
        assert [(t["name"], t["data_type"], t["dims"]) for t in declared] == expected_config
    assert config["max_batch_size"] == MAX_BATCH_SIZE
    assert "dynamic_batching" in config
    assert config["backend"] == "python"
    assert [group["count"] for group in config["instance_group"]] == [1]
    parameters = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
    assert parameters == ({"resize_mode": "letterbox"} if model in LETTERBOXED else {})


def test_facenet_decodes_one_face_matching_dlib(client: Any) -> None:
    """Grace Hopper, letterboxed: exactly one face, where dlib itself finds it at full resolution."""
    image = load_rgb(GRACE_HOPPER)
    frame, scale = letterbox(image)
    result = infer(client, "facenet", {"input_1": frame[None]}, ["output_cov/Sigmoid", "output_bbox/BiasAdd"])
    cov, bbox = result["output_cov/Sigmoid"], result["output_bbox/BiasAdd"]
    assert cov.shape == (1, 1, 26, 46) and bbox.shape == (1, 4, 26, 46)
    nonzero = cov[cov > 0]
    assert np.all((nonzero >= 0.5) & (nonzero < 1.0))
    boxes, scores = grid.decode(cov[0], bbox[0])
    assert len(boxes) == 1
    assert 0.5 <= scores[0] < 1.0
    found = boxes[0] / scale
    (expected,) = FaceDetector().detect(image)
    assert box_iou(found, expected.box) > 0.6


def test_facenet_batch_matches_dlib_on_the_letterboxed_frames(client: Any) -> None:
    """A batch of 2: each frame's decoded faces are exactly dlib's detections on that frame."""
    frames = [letterbox(load_rgb(path))[0] for path in (GROUP, FOOTBALL)]
    result = infer(client, "facenet", {"input_1": np.stack(frames)}, ["output_cov/Sigmoid", "output_bbox/BiasAdd"])
    detector = FaceDetector()
    for index, frame in enumerate(frames):
        pixels = np.clip(np.rint(frame * 255), 0, 255).astype(np.uint8).transpose(1, 2, 0)
        expected = grid.clip_boxes([detection.box for detection in detector.detect(pixels)])
        boxes, _ = grid.decode(result["output_cov/Sigmoid"][index], result["output_bbox/BiasAdd"][index])
        assert len(boxes) == len(expected) > 0
        np.testing.assert_allclose(boxes, expected, atol=1e-3)


def file_bytes(path: Path) -> npt.NDArray[np.uint8]:
    """A file's bytes as the encoded model's input [1, nbytes]."""
    return np.frombuffer(path.read_bytes(), dtype=np.uint8)[None]


ENCODED_OUTPUTS = ["output_cov/Sigmoid", "output_bbox/BiasAdd", "image_shape"]


@pytest.mark.parametrize("path", [GROUP, GRACE_HOPPER, FOOTBALL, FACES / "portrait-astronaut.png"])
def test_facenet_encoded_matches_facenet_on_the_letterboxed_frame(client: Any, path: Path) -> None:
    """The file's bytes give the image's shape and exactly the faces facenet finds in the frame the
    client would letterbox from the same image."""
    result = infer(client, "facenet_encoded", {"image_bytes": file_bytes(path)}, ENCODED_OUTPUTS)
    image = load_rgb(path)
    assert result["image_shape"].dtype == np.int32
    assert result["image_shape"].tolist() == [[image.shape[0], image.shape[1], 3]]
    frame, _ = letterbox(image)
    raw = infer(client, "facenet", {"input_1": frame[None]}, ENCODED_OUTPUTS[:2])
    boxes, scores = grid.decode(result["output_cov/Sigmoid"][0], result["output_bbox/BiasAdd"][0])
    expected, expected_scores = grid.decode(raw["output_cov/Sigmoid"][0], raw["output_bbox/BiasAdd"][0])
    assert len(boxes) == len(expected) > 0
    np.testing.assert_allclose(boxes, expected, atol=1e-3)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-3)


def test_facenet_encoded_applies_exif_orientation(client: Any, tmp_path: Path) -> None:
    """A JPEG stored on its side with EXIF orientation 6: the upright shape and its one face."""
    sideways = tmp_path / "sideways.jpg"
    with Image.open(GRACE_HOPPER) as image:
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to display
        image.transpose(Image.Transpose.ROTATE_90).save(sideways, quality=95, exif=exif)
    result = infer(client, "facenet_encoded", {"image_bytes": file_bytes(sideways)}, ENCODED_OUTPUTS)
    height, width = load_rgb(GRACE_HOPPER).shape[:2]
    assert result["image_shape"].tolist() == [[height, width, 3]]
    boxes, _ = grid.decode(result["output_cov/Sigmoid"][0], result["output_bbox/BiasAdd"][0])
    assert len(boxes) == 1


def test_facenet_encoded_refuses_bytes_that_are_no_image(client: Any) -> None:
    """Bytes Pillow cannot read: an error response naming the cause, not a crash."""
    from tritonclient.utils import InferenceServerException

    garbage = np.frombuffer(b"not an image", np.uint8)[None]
    with pytest.raises(InferenceServerException, match="UnidentifiedImageError"):
        infer(client, "facenet_encoded", {"image_bytes": garbage}, ["image_shape"])
    assert client.is_model_ready("facenet_encoded"), "the model still serves after a bad request"


def test_fpenet_returns_68_dlib_points_and_12_empty_ones(client: Any) -> None:
    """[N,80,2] and [N,80]: points 0-67 about the face with confidence 1, points 68-79 zero."""
    image = load_rgb(GRACE_HOPPER)
    (detection,) = FaceDetector().detect(image)
    crop, x0, y0, side = face_crop(image, detection.box)
    batch = np.stack([crop, crop[:, :, ::-1]])
    result = infer(client, "fpenet", {"input_face_images": batch}, ["softargmax", "softargmax:1"])
    points, confidence = result["softargmax"], result["softargmax:1"]
    assert points.shape == (2, 80, 2) and confidence.shape == (2, 80)
    assert np.all(points[:, 68:] == 0) and np.all(confidence[:, 68:] == 0)
    assert np.all(confidence[:, :68] == 1)
    assert np.all((points[:, :68] > -16) & (points[:, :68] < 96))
    assert np.all((points[:, :68].mean(axis=1) > 25) & (points[:, :68].mean(axis=1) < 55))
    assert not np.allclose(points[0, :68], points[1, :68])
    in_image = points[0, :68] * side / 80 + np.array([x0, y0])
    expected = LandmarkPredictor().predict(image, detection.box)
    assert np.mean(np.linalg.norm(in_image - expected, axis=1)) < 0.05 * side


def test_facerec_describes_chips_like_dlib(client: Any) -> None:
    """128 finite floats per chip, as dlib computes them; two different people are far apart."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models_dir() / "shape_predictor_68_face_landmarks.dat"))
    chips = []
    for path in (GRACE_HOPPER, FOOTBALL):
        image = load_rgb(path)
        (rect,) = detector(image, 1)
        chips.append(dlib.get_face_chip(image, predictor(image, rect), size=150))
    batch = np.stack(chips).astype(np.uint8)
    embedding = infer(client, "facerec", {"input_chip": batch}, ["embedding"])["embedding"]
    assert embedding.shape == (2, 128) and embedding.dtype == np.float32
    assert np.all(np.isfinite(embedding))
    assert np.all((np.linalg.norm(embedding, axis=1) > 0.2) & (np.linalg.norm(embedding, axis=1) < 2.0))
    assert np.linalg.norm(embedding[0] - embedding[1]) > 0.6
    model = dlib.face_recognition_model_v1(str(models_dir() / "dlib_face_recognition_resnet_model_v1.dat"))
    np.testing.assert_allclose(embedding[0], np.array(model.compute_face_descriptor(chips[0])), atol=1e-5)


@pytest.mark.parametrize(
    ("model", "name", "dtype", "shape", "message"),
    [
        ("facenet", "input_1", "FP32", [1, 3, 2, 2], "unexpected shape for input 'input_1'"),
        ("fpenet", "input_face_images", "FP32", [MAX_BATCH_SIZE + 1, 1, 80, 80], "batch-size must be <= 16"),
        ("facerec", "input_chip", "FP32", [1, 150, 150, 3], "data-type is 'FP32'"),
    ],
)
def test_invalid_request_is_http_400_with_message(
    model: str, name: str, dtype: str, shape: list[int], message: str
) -> None:
    """A wrong shape, a batch over max_batch_size or a wrong datatype: HTTP 400 {"error": ...}."""
    data = np.zeros(shape, dtype=np.float32).tobytes()
    header = json.dumps(
        {"inputs": [{"name": name, "datatype": dtype, "shape": shape, "parameters": {"binary_data_size": len(data)}}]}
    ).encode()
    status, body = post(
        f"/v2/models/{model}/infer",
        header + data,
        {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"},
    )
    assert status == 400
    assert message in body["error"]


def test_system_shared_memory_without_token(client: Any) -> None:
    """A region registers with a plain POST (no access token) and carries fpenet's input and output."""
    import tritonclient.http as httpclient

    region = f"facescope-test-{uuid.uuid4().hex[:8]}"
    input_bytes = 80 * 80 * 4
    output_bytes = 80 * 2 * 4
    memory = shared_memory.SharedMemory(name=region, create=True, size=input_bytes + output_bytes)
    buffer = memory.buf
    assert buffer is not None
    try:
        status, body = post(
            f"/v2/systemsharedmemory/region/{region}/register",
            json.dumps({"key": f"/{region}", "offset": 0, "byte_size": memory.size}).encode(),
        )
        assert status == 200, body
        try:
            image = load_rgb(GRACE_HOPPER)
            (detection,) = FaceDetector().detect(image)
            crop = face_crop(image, detection.box)[0][None]
            np.ndarray(crop.shape, np.float32, buffer[:input_bytes])[...] = crop
            tensor = httpclient.InferInput("input_face_images", list(crop.shape), "FP32")
            tensor.set_shared_memory(region, input_bytes)
            output = httpclient.InferRequestedOutput("softargmax")
            output.set_shared_memory(region, output_bytes, offset=input_bytes)
            client.infer("fpenet", [tensor], outputs=[output])
            via_memory: npt.NDArray[np.float32] = np.ndarray((80, 2), np.float32, buffer[input_bytes:]).copy()
            direct = infer(client, "fpenet", {"input_face_images": crop}, ["softargmax"])["softargmax"][0]
            np.testing.assert_array_equal(via_memory, direct)
        finally:
            assert post(f"/v2/systemsharedmemory/region/{region}/unregister", b"")[0] == 200
    finally:
        memory.close()
        memory.unlink()
