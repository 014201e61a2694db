"""The GPU server's DALI preprocessing (facenet_preprocess), run with nvidia-dali's CPU operators:
rotated photos in every EXIF orientation must give the tensor and the image shape the client's
own preprocessing gives (EXIF orientation applied, stretched to 736x416, pixel / 255).

The copies are made here with Pillow from the sample photos: for orientation n the stored pixels
are the upright picture transformed the inverse way and the EXIF Orientation tag is n, so every
copy displays as the upright picture. The reference is the client's way computed with Pillow
(exif_transpose, a triangle filter that widens when shrinking: BILINEAR with no reducing gap, which
the client's resampler reproduces, /255); the tolerances are the GPU check's
(docker/gpu-check/compare.py): JPEG decoders and resamplers round differently. The mixed (served)
and gpu variants run only where DALI sees a GPU.
"""

from __future__ import annotations

import importlib.util
import io
import sys

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageOps

from deploy_support import ROOT, require_services

PIPELINES = ROOT / "docker" / "triton-server" / "pipelines"
PHOTOS = ("samples/portrait-grace-hopper.jpg", "samples/starry-night.jpg")
ORIENTATIONS = range(1, 9)
# What a viewer does to the stored pixels for each EXIF orientation (Pillow's exif_transpose);
# storing applies the inverse.
SHOW = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
INVERSE = {
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
}


def load(name: str, path):  # noqa: ANN001, ANN201 - a module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pipeline():  # noqa: ANN201 - the pipeline module
    try:
        import nvidia.dali  # noqa: F401
    except ImportError:
        if require_services():
            pytest.fail("nvidia-dali is not installed: run scripts/setup.sh")
        pytest.skip("nvidia-dali is not installed: run scripts/setup.sh")
    return load("facenet_preprocess", PIPELINES / "facenet_preprocess.py")


@pytest.fixture(scope="module")
def tolerances():  # noqa: ANN201 - compare.Tolerances
    return load("gpu_compare", ROOT / "docker" / "gpu-check" / "compare.py").Tolerances()


def oriented_copy(upright: Image.Image, orientation: int) -> bytes:
    """A JPEG that displays as `upright`: pixels stored the other way round, EXIF Orientation set."""
    stored = upright
    if orientation != 1:
        show = SHOW[orientation]
        stored = upright.transpose(INVERSE.get(show, show))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def client_reference(encoded: bytes) -> tuple[npt.NDArray[np.float32], tuple[int, int, int]]:
    """FaceNet's input the client's way, and the oriented image's shape [height, width, 3]."""
    with Image.open(io.BytesIO(encoded)) as image:
        oriented = ImageOps.exif_transpose(image).convert("RGB")
    resized = oriented.resize((736, 416), Image.Resampling.BILINEAR, reducing_gap=None)
    pixels = np.asarray(resized, dtype=np.float32) / np.float32(255)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)), (oriented.height, oriented.width, 3)


@pytest.fixture(scope="module")
def copies() -> dict[tuple[str, int], bytes]:
    """Every photo in every orientation, as JPEG bytes."""
    made = {}
    for photo in PHOTOS:
        with Image.open(ROOT / photo) as image:
            upright = image.convert("RGB")
        for n in ORIENTATIONS:
            made[(photo, n)] = oriented_copy(upright, n)
    return made


def run(module, copies, device: str, adjust_orientation: bool = True):  # noqa: ANN001, ANN201
    """The pipeline's outputs for every copy: {key: (tensor, shape)}."""
    from nvidia.dali.tensors import TensorListGPU

    keys = list(copies)
    pipe = module.build(len(keys), num_threads=2, device=device, adjust_orientation=adjust_orientation)
    pipe.build()
    pipe.feed_input(module.INPUT_NAME, [np.frombuffer(copies[k], dtype=np.uint8) for k in keys])
    tensors, shapes = (out.as_cpu() if isinstance(out, TensorListGPU) else out for out in pipe.run())
    return {k: (np.asarray(tensors[i]), tuple(int(v) for v in np.asarray(shapes[i]))) for i, k in enumerate(keys)}


def off(tensor, shape, reference, wanted_shape, tolerances) -> list[str]:  # noqa: ANN001
    """How one output misses the client's: shape, dtype, image shape, pixel differences."""
    problems = []
    if tensor.shape != (3, 416, 736) or tensor.dtype != np.float32:
        return [f"tensor {tensor.shape} {tensor.dtype}, expected (3, 416, 736) float32"]
    if shape != wanted_shape:
        problems.append(f"image shape {shape}, the client's {wanted_shape}")
    difference = np.abs(tensor.astype(np.float64) - reference)
    if difference.mean() > tolerances.mean:
        problems.append(f"mean difference {difference.mean():.4f} > {tolerances.mean}")
    if np.percentile(difference, 99) > tolerances.p99:
        problems.append(f"99th percentile {np.percentile(difference, 99):.4f} > {tolerances.p99}")
    return problems


def test_the_copies_display_as_the_upright_photo(copies):
    # The test's own premise: Pillow shows every copy as the upright picture (JPEG noise aside).
    for photo in PHOTOS:
        upright, shape = client_reference(copies[(photo, 1)])
        for n in ORIENTATIONS:
            tensor, oriented = client_reference(copies[(photo, n)])
            assert oriented == shape, (photo, n)
            assert float(np.abs(tensor - upright).mean()) < 0.01, (photo, n)
        stored = Image.open(io.BytesIO(copies[(photo, 6)]))
        assert stored.size == (shape[0], shape[1]), "orientation 6 stores the picture on its side"


def gpu_count() -> int:
    from nvidia.dali import backend

    return backend.GetCUDADeviceCount()


@pytest.mark.parametrize("device", ["cpu", "gpu", "mixed"])
def test_every_exif_orientation_gives_the_clients_tensor_and_shape(pipeline, copies, tolerances, device):
    assert device in pipeline.DEVICES
    if device != "cpu" and gpu_count() == 0:
        pytest.skip(f"device {device!r} needs a GPU")
    outputs = run(pipeline, copies, device)
    problems = {}
    for key, encoded in copies.items():
        reference, shape = client_reference(encoded)
        found = off(*outputs[key], reference, shape, tolerances)
        if found:
            problems[key] = found
    assert not problems, problems


def test_the_check_fails_when_the_orientation_is_ignored(pipeline, copies, tolerances):
    # The same comparison with DALI told to disregard EXIF: every rotated or mirrored copy is off,
    # by its shape (5-8: width and height swapped) or its pixels (2-4), the upright one is not.
    outputs = run(pipeline, copies, "cpu", adjust_orientation=False)
    for (photo, n), encoded in copies.items():
        reference, shape = client_reference(encoded)
        found = off(*outputs[(photo, n)], reference, shape, tolerances)
        if n == 1:
            assert not found, (photo, found)
        else:
            assert found, (photo, n)
            assert any("image shape" in p for p in found) == (n >= 5), (photo, n, found)


def test_the_pipeline_refuses_an_unknown_device(pipeline):
    with pytest.raises(ValueError, match="not one of"):
        pipeline.build(1, device="tpu")
