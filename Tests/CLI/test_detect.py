"""`facescope detect` end to end: the real binary, the real Triton CPU backend, real Redis Stack.

Runs under scripts/test.sh (FACESCOPE_BIN, FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("FACESCOPE_TEST_REDIS_URL")
TRITON_URL = os.environ.get("FACESCOPE_TRITON_URL")
FACESCOPE = os.environ.get("FACESCOPE_BIN")
REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FACESCOPE_SAMPLE_DATA", REPO.parent / "shared" / "data"))
pytestmark = pytest.mark.skipif(
    not (REDIS_URL and TRITON_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL, FACESCOPE_BIN)",
)


def env(prefix: str, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_OM", "TRITON_SERVER", "IMAGES_DIR"))}
    return {**base, "REDIS_OM_URL": REDIS_URL or "", "TRITON_SERVER_URL": TRITON_URL or "",
            "FACESCOPE_KEY_PREFIX": prefix, **extra}


def detect(prefix: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FACESCOPE or "facescope", "detect", *args], capture_output=True, text=True,
                          timeout=300, env=env(prefix, **extra))


def stored(prefix: str) -> list[dict]:
    done = subprocess.run([FACESCOPE or "facescope", "list", "--json"], capture_output=True, text=True,
                          timeout=60, env=env(prefix))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def wait_until_something_is_stored(prefix: str, timeout: float = 120) -> None:
    """Polls the documents under `prefix` (the keys themselves) until one exists."""
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    while not any(True for _ in r.scan_iter(match=f"{prefix}*", _type="ReJSON-RL")):
        assert time.monotonic() < deadline, "nothing was stored"
        time.sleep(0.05)


def test_folder_with_bad_files_stores_the_good_ones_and_names_the_bad(prefix, tmp_path):
    shutil.copy(DATA / "faces" / "portrait-grace-hopper.jpg", tmp_path / "hopper.jpg")
    shutil.copy(DATA / "no-faces" / "fruits.jpg", tmp_path / "fruits.jpg")
    (tmp_path / "notes.jpg").write_text("not an image")
    data = (DATA / "faces" / "portrait-football.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / ".hidden").mkdir()
    shutil.copy(DATA / "faces" / "portrait-grace-hopper.jpg", tmp_path / ".hidden" / "skipped.jpg")
    (tmp_path / "sub").mkdir()
    shutil.copy(DATA / "faces" / "group-6-faces.jpg", tmp_path / "sub" / "group.jpg")
    done = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path))
    assert done.returncode == 1
    assert "notes.jpg" in done.stderr and "not an image" in done.stderr
    assert "cut.jpg" in done.stderr and "truncated" in done.stderr
    assert "3 images, 7 faces, 0 skipped, 2 failed" in done.stderr
    docs = {d["filename"]: d for d in stored(prefix)}
    assert sorted(docs) == ["fruits.jpg", "hopper.jpg", "sub/group.jpg"]
    assert len(docs["sub/group.jpg"]["faces"]) == 6 and docs["fruits.jpg"]["faces"] == []
    face = docs["hopper.jpg"]["faces"][0]
    assert set(face["descriptors"]) == {"chin", "eyebrows", "nose", "eyes", "mouth", "lips"}
    assert len(face["embedding"]) == 128
    # Again: everything stored is skipped; the bad files fail again, nothing is duplicated.
    again = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path))
    assert "3 images already stored, skipped" in again.stderr
    assert len(stored(prefix)) == 3


def test_dry_run_needs_no_redis_and_json_prints_documents(prefix):
    done = detect(prefix, str(DATA / "faces" / "portrait-grace-hopper.jpg"), "--dry-run", "--json",
                  REDIS_OM_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 0, done.stderr
    (doc,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert list(doc)[:7] == ["pk", "filename", "faces", "channels", "height", "width", "portrait"]
    assert doc["width"] == 512 and doc["height"] == 600 and doc["portrait"] == 1
    assert len(doc["faces"]) == 1
    assert "nothing stored (dry run)" in done.stderr


def test_encoded_model_by_flag_or_setting_gives_the_raw_tensor_results(prefix):
    photos = [str(DATA / "faces" / name) for name in ("group-6-faces.jpg", "portrait-grace-hopper.jpg")]

    def boxes(*args: str, **extra: str) -> list[list[tuple[int, ...]]]:
        done = detect(prefix, *photos, "--dry-run", "--json", *args, REDIS_OM_URL="redis://127.0.0.1:1/0", **extra)
        assert done.returncode == 0, done.stderr
        documents = sorted((json.loads(line) for line in done.stdout.splitlines()), key=lambda d: d["filename"])
        return [[tuple(f["bbox"][k] for k in ("x1", "y1", "x2", "y2")) for f in d["faces"]] for d in documents]

    def iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
        inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    raw = boxes()
    encoded = boxes("--encoded-model", "facenet_encoded")
    assert [len(f) for f in raw] == [len(f) for f in encoded] == [6, 1]
    for raw_faces, encoded_faces in zip(raw, encoded):
        assert all(max(iou(r, e) for e in encoded_faces) > 0.9 for r in raw_faces), (raw_faces, encoded_faces)
    assert boxes(FACESCOPE_ENCODED_MODEL="facenet_encoded") == encoded
    done = detect(prefix, photos[1], "--dry-run", "--encoded-model", "no_such_model")
    assert done.returncode == 1 and "no_such_model" in done.stderr


def test_triton_down_is_a_clear_error(prefix):
    done = detect(prefix, str(DATA / "faces"), TRITON_SERVER_URL="127.0.0.1:1")
    assert done.returncode == 1
    assert "127.0.0.1:1" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2


def test_ctrl_c_stops_promptly_keeps_what_is_done_and_a_rerun_continues(prefix, tmp_path):
    sources = [DATA / "faces" / "portrait-grace-hopper.jpg", DATA / "no-faces" / "fruits.jpg"]
    for i in range(40):
        (tmp_path / f"img-{i:02d}.jpg").symlink_to(sources[i % 2])
    process = subprocess.Popen([FACESCOPE or "facescope", "detect", str(tmp_path), "--images-dir", str(tmp_path),
                                "--concurrency", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env(prefix))
    wait_until_something_is_stored(prefix)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - started < 10, "Ctrl-C did not stop the run promptly"
    assert process.returncode == 130, err
    assert "stopped early" in err
    first = len(stored(prefix))
    assert 0 < first < 40
    rerun = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path))
    assert rerun.returncode == 0, rerun.stderr
    assert f"{first} images already stored, skipped" in rerun.stderr
    docs = stored(prefix)
    assert len(docs) == 40 and len({d["filename"] for d in docs}) == 40


def test_progress_is_plain_lines_off_a_terminal_and_the_summary_counts(prefix):
    done = detect(prefix, str(DATA / "no-faces"), "--images-dir", str(DATA))
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    assert "3 images, 0 faces, 0 skipped, 0 failed" in done.stderr


def test_force_keeps_what_other_tools_wrote_inside_faces_and_boxes(prefix, tmp_path):
    photo = tmp_path / "group.jpg"
    shutil.copy(DATA / "faces" / "group-6-faces.jpg", photo)
    done = detect(prefix, str(photo), "--images-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (document,) = stored(prefix)
    assert len(document["faces"]) == 6
    # Another tool annotates the faces, their boxes and the document.
    for i, face in enumerate(document["faces"]):
        face["age"] = 30 + i
        face["bbox"]["source"] = "manual"
    document["album"] = "family"
    import redis

    redis.Redis.from_url(REDIS_URL).execute_command("JSON.SET", f"{prefix}{document['pk']}", "$",
                                                    json.dumps(document))
    done = detect(prefix, str(photo), "--images-dir", str(tmp_path), "--force")
    assert done.returncode == 0, done.stderr
    (again,) = stored(prefix)
    assert again["pk"] == document["pk"]
    assert again["album"] == "family"
    assert sorted(face.get("age") for face in again["faces"]) == [30 + i for i in range(6)]
    assert all(face["bbox"].get("source") == "manual" for face in again["faces"])
    # The detection itself is new: fresh face pks.
    assert {f["pk"] for f in again["faces"]}.isdisjoint({f["pk"] for f in document["faces"]})


def test_new_faces_join_people_as_they_are_stored_unless_asked_not_to(prefix, tmp_path):
    from PIL import Image, ImageOps

    shutil.copy(DATA / "faces" / "group-6-faces.jpg", tmp_path / "group.jpg")
    shutil.copy(DATA / "faces" / "portrait-grace-hopper.jpg", tmp_path / "hopper.jpg")
    done = detect(prefix, str(tmp_path), "--images-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "7 new faces given a person" in done.stderr
    labels = {d["filename"]: [f["label"] for f in d["faces"]] for d in stored(prefix)}
    group = labels["group.jpg"]
    # Everyone a person; the six of one photo six people; Grace Hopper someone else.
    assert None not in group and len(set(group)) == 6
    assert labels["hopper.jpg"][0] is not None and labels["hopper.jpg"][0] not in group

    # A mirrored copy of the group photo, detected later: its faces join the same six people.
    ImageOps.mirror(Image.open(tmp_path / "group.jpg")).save(tmp_path / "group-mirrored.jpg", quality=95)
    done = detect(prefix, str(tmp_path / "group-mirrored.jpg"), "--images-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    mirrored = {d["filename"]: [f["label"] for f in d["faces"]] for d in stored(prefix)}["group-mirrored.jpg"]
    assert sorted(mirrored) == sorted(group)

    # --no-cluster leaves new faces without a person.
    (tmp_path / "hopper.jpg").write_bytes((tmp_path / "hopper.jpg").read_bytes() + b"changed")
    done = detect(prefix, str(tmp_path / "hopper.jpg"), "--images-dir", str(tmp_path), "--no-cluster",
                  "--replace-labels")
    assert done.returncode == 0, done.stderr
    assert "given a person" not in done.stderr
    assert {d["filename"]: [f["label"] for f in d["faces"]] for d in stored(prefix)}["hopper.jpg"] == [None]
