"""`facescope detect` when things go wrong: odd files, odd names, links, signals, an unavailable
or misbehaving Triton. The real binary, real Redis Stack, the real CPU Triton (behind a proxy
that misbehaves on purpose where a test needs it)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from test_detect import DATA, FACESCOPE, REDIS_URL, TRITON_URL, detect, env, stored, wait_until_something_is_stored
from tritonproxy import TritonProxy

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and TRITON_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL, FACESCOPE_BIN)",
)
HOPPER = DATA / "faces" / "portrait-grace-hopper.jpg"


@pytest.fixture
def proxy():
    p = TritonProxy(TRITON_URL or "")
    yield p
    p.close()


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_a_missing_file_is_counted_in_the_summary_too(prefix, tmp_path):
    done = detect(prefix, str(HOPPER), str(tmp_path / "missing.jpg"), "--dry-run")
    assert done.returncode == 1
    assert "1 images, 1 faces, 0 skipped, 1 failed" in done.stderr
    assert errors(done.stderr)[-1] == "error: 1 file failed"


def test_fifos_and_devices_fail_per_file_without_hanging(prefix, tmp_path):
    os.mkfifo(tmp_path / "x.jpg")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "pipe.png")
    shutil.copy(HOPPER, tmp_path / "sub" / "hopper.jpg")
    done = detect(prefix, str(tmp_path / "x.jpg"), str(tmp_path / "sub"), "/dev/zero", "--dry-run")
    assert done.returncode == 1
    assert f"{tmp_path}/x.jpg: is a FIFO (named pipe), not a regular file" in done.stderr
    assert f"{tmp_path}/sub/pipe.png: is a FIFO" in done.stderr
    assert "/dev/zero: is a device, not a regular file" in done.stderr
    assert "1 images, 1 faces, 0 skipped, 3 failed" in done.stderr


def test_names_that_are_not_utf8_fail_per_file_with_the_bytes_escaped(prefix, tmp_path):
    root = os.fsencode(tmp_path)
    shutil.copy(HOPPER, tmp_path / "good.jpg")
    shutil.copy(HOPPER, root + b"/caf\xe9.jpg")
    os.mkdir(root + b"/d\xff")
    shutil.copy(HOPPER, root + b"/d\xff/b.jpg")
    done = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path))
    assert done.returncode == 1
    lines = errors(done.stderr)
    assert any(f"{tmp_path}/caf\\xE9.jpg: the path is not valid UTF-8" in line for line in lines), done.stderr
    assert any(f"{tmp_path}/d\\xFF/b.jpg: the path is not valid UTF-8" in line for line in lines), done.stderr
    assert "1 images, 1 faces, 0 skipped, 2 failed" in done.stderr
    assert [d["filename"] for d in stored(prefix)] == ["good.jpg"]


def test_linked_folders_are_walked_and_each_file_is_stored_once(prefix, tmp_path):
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    shutil.copy(HOPPER, images / "sub" / "a.jpg")
    (images / "linked").symlink_to("sub")  # a folder link inside the images folder
    (images / "dup.jpg").symlink_to("sub/a.jpg")  # a file link inside
    (images / "ext").symlink_to(DATA / "no-faces")  # a folder link to outside: kept as named
    (tmp_path / "alias").symlink_to(images / "sub")  # a linked folder given as PATH
    done = detect(prefix, str(tmp_path / "alias"), "--images-dir", str(images))
    assert done.returncode == 0, done.stderr
    assert [d["filename"] for d in stored(prefix)] == ["sub/a.jpg"]
    (images / "sub" / "loop").symlink_to("..")  # a cycle
    done = detect(prefix, str(images), "--images-dir", str(images))
    assert done.returncode == 0, done.stderr
    assert "1 images already stored, skipped" in done.stderr
    names = sorted(d["filename"] for d in stored(prefix))
    outside = sorted(f"ext/{p.name}" for p in (DATA / "no-faces").iterdir() if p.suffix == ".jpg")
    assert names == sorted(["sub/a.jpg", *outside])


def test_sigterm_stops_like_ctrl_c_keeps_what_is_done_and_exits_143(prefix, tmp_path):
    for i in range(40):
        (tmp_path / f"img-{i:02d}.jpg").symlink_to(HOPPER)
    process = subprocess.Popen([FACESCOPE or "facescope", "detect", str(tmp_path), "--images-dir", str(tmp_path),
                                "--concurrency", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env(prefix))
    wait_until_something_is_stored(prefix)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "stopped early" in err
    assert 0 < len(stored(prefix)) < 40


def test_an_unavailable_triton_pauses_then_stops_once_with_the_count_left_and_a_rerun_continues(
        prefix, tmp_path, proxy):
    for i in range(30):
        (tmp_path / f"img-{i:02d}.jpg").symlink_to(HOPPER)
    proxy.fail_infer = True
    done = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path), TRITON_SERVER_URL=proxy.url,
                  FACESCOPE_OUTAGE_WAIT="3")
    assert done.returncode == 1
    lines = errors(done.stderr)
    assert len(lines) == 1, done.stderr
    assert "HTTP 503" in lines[0] and proxy.url in lines[0]
    assert "30 images left; run the same command again to continue" in lines[0]
    # Paused rather than hammering: far fewer requests than images x attempts.
    assert proxy.infer_requests <= 40, proxy.infer_requests
    proxy.fail_infer = False
    rerun = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path), TRITON_SERVER_URL=proxy.url)
    assert rerun.returncode == 0, rerun.stderr
    assert len(stored(prefix)) == 30


def nan_output(name: str):
    def rewrite(outputs):
        return [(entry, bytes.fromhex("0000c07f") * (len(data) // 4) if entry["name"] == name else data)
                for entry, data in outputs]
    return rewrite


def test_nan_boxes_fail_the_file_naming_the_detector(prefix, proxy):
    proxy.reply["facenet"] = nan_output("output_bbox/BiasAdd")
    done = detect(prefix, str(HOPPER), TRITON_SERVER_URL=proxy.url)
    assert done.returncode == 1
    assert "model 'facenet' returned" in done.stderr and "(NaN or infinity) in 'output_bbox/BiasAdd'" in done.stderr
    assert "0 images, 0 faces, 0 skipped, 1 failed" in done.stderr
    assert stored(prefix) == []


def test_a_nan_descriptor_fails_its_file_and_the_others_are_stored(prefix, proxy):
    proxy.reply["facerec"] = nan_output("embedding")
    fruits = DATA / "no-faces" / "fruits.jpg"
    done = detect(prefix, str(HOPPER), str(fruits), "--images-dir", str(DATA), TRITON_SERVER_URL=proxy.url)
    assert done.returncode == 1
    (line,) = [line for line in errors(done.stderr) if "non-finite" in line]
    assert "portrait-grace-hopper.jpg" in line and "model 'facerec'" in line and "'embedding'" in line
    assert "1 images, 0 faces, 0 skipped, 1 failed" in done.stderr
    assert [d["filename"] for d in stored(prefix)] == ["no-faces/fruits.jpg"]


def test_tritons_grpc_port_is_named_as_such(prefix):
    host, port = (TRITON_URL or "").rsplit(":", 1)
    grpc = f"{host}:{int(port) + 1}"  # the CPU Triton serves gRPC on the HTTP port + 1
    done = detect(prefix, str(HOPPER), "--dry-run", TRITON_SERVER_URL=grpc)
    assert done.returncode == 1
    assert errors(done.stderr) == [
        f"error: http://{grpc} does not answer HTTP/1.1 (it sent HTTP/2 frames): it is a gRPC port; "
        "FaceScope speaks HTTP: use Triton's HTTP port (8000) in TRITON_SERVER_URL"]


@pytest.mark.parametrize("url", [
    "redis://user:s3cr%21t@127.0.0.1:99999/0",  # bad port
    "redis://:s3cr%21t@127.0.0.1:16379/zero",  # bad database
    "http://user:s3cr%21t@127.0.0.1:16379/0",  # another scheme
    "s3cr%21t@127.0.0.1:16379",  # no scheme
])
def test_a_malformed_redis_url_never_shows_its_password(prefix, url):
    listed = subprocess.run([FACESCOPE or "facescope", "list"], capture_output=True, text=True, timeout=60,
                            env=env(prefix, REDIS_OM_URL=url))
    assert listed.returncode == 2
    assert "invalid Redis URL" in listed.stderr and "***@127.0.0.1" in listed.stderr
    doctor = subprocess.run([FACESCOPE or "facescope", "doctor", "--json"], capture_output=True, text=True,
                            timeout=60, env=env(prefix, REDIS_OM_URL=url))
    assert doctor.returncode == 2
    (check,) = json.loads(doctor.stdout)
    assert check["check"] == "settings" and not check["ok"] and "***@127.0.0.1" in check["detail"]
    for text in (listed.stdout, listed.stderr, doctor.stdout, doctor.stderr):
        assert "s3cr" not in text


def embeddings(done: subprocess.CompletedProcess[str]) -> list[list[float]]:
    assert done.returncode == 0, done.stderr
    return [face["embedding"] for line in done.stdout.splitlines() for face in json.loads(line)["faces"]]


@pytest.mark.parametrize("served", ["FP32", "FP16"])
def test_a_float_face_chip_model_gets_the_same_chip_converted(prefix, proxy, served):
    """A facerec whose chip input is FP32 or FP16 (as ONNX/TensorRT exports have it): the proxy
    serves the real model under that contract and turns the floats back into bytes, checking
    they are whole numbers 0-255; the descriptors equal those of the UINT8 model."""
    import numpy as np

    dtype = {"FP32": np.float32, "FP16": np.float16}[served]
    seen: list[str] = []

    def metadata(m: dict) -> dict:
        for tensor in m["inputs"]:
            tensor["datatype"] = served
        return m

    def config(c: dict) -> dict:
        for tensor in c["input"]:
            tensor["data_type"] = f"TYPE_{served}"
        return c

    def request(inputs):
        out = []
        for entry, data in inputs:
            if entry["name"] == "input_chip":
                seen.append(entry["datatype"])
                values = np.frombuffer(data, dtype=dtype)
                assert np.all(values == np.round(values)) and values.min() >= 0 and values.max() <= 255
                entry = {**entry, "datatype": "UINT8"}
                data = values.astype(np.uint8).tobytes()
            out.append((entry, data))
        return out

    proxy.metadata["facerec"], proxy.config["facerec"], proxy.request["facerec"] = metadata, config, request
    group = DATA / "faces" / "group-6-faces.jpg"
    direct = embeddings(detect(prefix, str(group), "--dry-run", "--json"))
    converted = embeddings(detect(prefix, str(group), "--dry-run", "--json", TRITON_SERVER_URL=proxy.url))
    assert seen and set(seen) == {served}
    assert len(direct) == 6 and converted == direct


def test_a_descriptor_model_that_does_not_fit_only_warns(prefix, proxy):
    def metadata(m: dict) -> dict:
        for tensor in m["outputs"]:
            tensor["shape"] = [-1, 512]
        return m

    proxy.metadata["facerec"] = metadata
    done = detect(prefix, str(HOPPER), "--images-dir", str(DATA), TRITON_SERVER_URL=proxy.url)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "no face descriptors" in warnings[0] and "'facerec'" in warnings[0]
    assert "output 'embedding' is FP32 [-1,512]" in warnings[0]
    (doc,) = stored(prefix)
    assert len(doc["faces"]) == 1 and doc["faces"][0].get("embedding") is None


WIDER_MODEL = '''
import sys
sys.path.insert(0, sys.argv[1])
from typing import Dict, List, Optional
from redis_om import Field, JsonModel, Migrator, get_redis_connection


class Bbox(JsonModel):
    x1: int
    y1: int
    x2: int
    y2: int


class Face(JsonModel):
    bbox: Bbox
    probability: int
    label: Optional[int] = None
    rotation: Optional[int] = None
    descriptors: Optional[Dict] = None


class Model(JsonModel):
    filename: str = Field(index=True, full_text_search=True)
    faces: Optional[List[Face]] = None
    channels: Optional[int] = None
    height: Optional[int] = None
    width: Optional[int] = None
    portrait: Optional[int] = None
    camera: Optional[str] = Field(index=True, default=None)  # a field the original lacks

    class Meta:
        database = get_redis_connection()


for cls in (Model, Face, Bbox):
    cls._meta.global_key_prefix = sys.argv[2]
    cls._meta.model_key_prefix = f"utils.{cls.__name__}"
    cls._meta.index_name = f"{sys.argv[2]}:utils.{cls.__name__}:index"
Migrator().run()
'''


def test_doctor_accepts_the_index_redis_om_wrote_for_a_model_with_more_fields(prefix, tmp_path):
    import redis

    tag = prefix.split(":")[0]
    script = tmp_path / "wider.py"
    script.write_text(WIDER_MODEL)
    done = subprocess.run([os.environ.get("FACESCOPE_PYTHON", "python3"), str(script), str(tmp_path), tag],
                          capture_output=True, text=True, timeout=120, env=env(prefix, REDIS_OM_URL=REDIS_URL))
    assert done.returncode == 0, done.stderr
    r = redis.Redis.from_url(REDIS_URL)
    try:
        assert r.get(f"{prefix}index:hash") is not None  # the Migrator's own hash
        doctor = subprocess.run([FACESCOPE or "facescope", "doctor", "--no-triton", "--json"], capture_output=True,
                                text=True, timeout=60, env=env(prefix))
        checks = {c["check"]: c for c in json.loads(doctor.stdout)}
        assert checks["redis-om index"]["ok"], checks["redis-om index"]
        assert "camera" in checks["redis-om index"]["detail"]
        assert checks["redis-om schema hash"]["ok"], checks["redis-om schema hash"]
        assert "a Model with more fields (camera)" in checks["redis-om schema hash"]["detail"]
    finally:
        for name in ("Face", "Bbox"):
            try:
                r.execute_command("FT.DROPINDEX", f"{tag}:utils.{name}:index")
            except redis.ResponseError:
                pass
        for key in r.scan_iter(match=f"{tag}:*"):
            r.delete(key)


def test_triton_down_from_the_start_says_so_once_with_the_count_left(prefix, tmp_path):
    for i in range(5):
        (tmp_path / f"img-{i}.jpg").symlink_to(HOPPER)
    done = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path), TRITON_SERVER_URL="127.0.0.1:1")
    assert done.returncode == 1
    (line,) = errors(done.stderr)
    assert "cannot reach Triton at http://127.0.0.1:1" in line
    assert line.endswith("running; nothing done: 5 images left; run the same command again when Triton is up")
