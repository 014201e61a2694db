"""Changed and removed files end to end: `detect` re-detecting changed files and not sending
touched ones, `prune`, and `watch`, with the real binary, the real Triton CPU backend (behind a
counting proxy where requests are counted) and the real Redis Stack.

Runs under scripts/test.sh (FACESCOPE_BIN, FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from PIL import Image

from tritonproxy import TritonProxy

REDIS_URL = os.environ.get("FACESCOPE_TEST_REDIS_URL")
TRITON_URL = os.environ.get("FACESCOPE_TRITON_URL")
FACESCOPE = os.environ.get("FACESCOPE_BIN")
REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FACESCOPE_SAMPLE_DATA", REPO.parent / "shared" / "data"))
HOPPER = DATA / "faces" / "portrait-grace-hopper.jpg"
GROUP = DATA / "faces" / "group-6-faces.jpg"
BABOON = DATA / "no-faces" / "baboon.jpg"
pytestmark = pytest.mark.skipif(
    not (REDIS_URL and TRITON_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL, FACESCOPE_BIN)",
)


@pytest.fixture
def proxy():
    p = TritonProxy(TRITON_URL or "")
    yield p
    p.close()


def env(prefix: str, images: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_OM", "TRITON_SERVER", "IMAGES_DIR"))}
    return {**base, "REDIS_OM_URL": REDIS_URL or "", "TRITON_SERVER_URL": TRITON_URL or "",
            "FACESCOPE_KEY_PREFIX": prefix, "IMAGES_DIR": str(images), **extra}


def facescope(prefix: str, images: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FACESCOPE or "facescope", *args], capture_output=True, text=True, timeout=300,
                          env=env(prefix, images, **extra))


def stored(prefix: str, images: Path) -> dict[str, dict]:
    done = facescope(prefix, images, "list", "--json")
    assert done.returncode == 0, done.stderr
    return {d["filename"]: d for d in map(json.loads, done.stdout.splitlines())}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summary(done: subprocess.CompletedProcess[str]) -> str:
    return done.stderr.strip().splitlines()[-1]


def test_changed_file_is_detected_again_keeping_labels_and_touched_file_is_not_sent(prefix, tmp_path, proxy):
    shutil.copy(HOPPER, tmp_path / "a.jpg")
    shutil.copy(BABOON, tmp_path / "b.jpg")
    first = facescope(prefix, tmp_path, "detect", str(tmp_path), TRITON_SERVER_URL=proxy.url)
    assert first.returncode == 0, first.stderr
    assert "2 new, 0 changed, 0 unchanged" in summary(first)
    docs = stored(prefix, tmp_path)
    for name in ("a.jpg", "b.jpg"):
        info = (tmp_path / name).stat()
        assert docs[name]["source"] == {"size": info.st_size, "mtime_ns": info.st_mtime_ns,
                                        "sha256": sha256(tmp_path / name)}
    # A label from clustering, on the face that re-detection will find again.
    r = redis.Redis.from_url(REDIS_URL or "")
    r.execute_command("JSON.SET", f"{prefix}{docs['a.jpg']['pk']}", "$.faces[0].label", "7")

    # a.jpg: the same picture encoded again (other bytes, the same face); b.jpg: only touched.
    Image.open(HOPPER).save(tmp_path / "a.jpg", quality=70)
    later = (tmp_path / "b.jpg").stat().st_mtime_ns + 5_000_000_000
    os.utime(tmp_path / "b.jpg", ns=(later, later))
    before = proxy.infer_requests
    again = facescope(prefix, tmp_path, "detect", str(tmp_path), TRITON_SERVER_URL=proxy.url)
    assert again.returncode == 0, again.stderr
    line = summary(again)
    assert line.startswith("1 images, 1 faces, 1 skipped, 0 failed"), line
    assert "0 new, 1 changed, 1 unchanged (1 only touched: modification time updated)" in line
    sent_for_a = proxy.infer_requests - before
    assert sent_for_a > 0
    redone = stored(prefix, tmp_path)
    assert redone["a.jpg"]["pk"] == docs["a.jpg"]["pk"]
    assert redone["a.jpg"]["source"]["sha256"] == sha256(tmp_path / "a.jpg") != docs["a.jpg"]["source"]["sha256"]
    assert [f["label"] for f in redone["a.jpg"]["faces"]] == [7]
    # The touched file: not sent to Triton, its document as it was but for the new time.
    assert redone["b.jpg"]["source"] == {**docs["b.jpg"]["source"], "mtime_ns": later}
    assert redone["b.jpg"]["faces"] == docs["b.jpg"]["faces"]

    # Touched once more, detected on its own: Triton sees no request at all.
    os.utime(tmp_path / "b.jpg", ns=(later + 1, later + 1))
    before = proxy.infer_requests
    third = facescope(prefix, tmp_path, "detect", str(tmp_path / "b.jpg"), TRITON_SERVER_URL=proxy.url)
    assert third.returncode == 0, third.stderr
    assert proxy.infer_requests == before
    assert "0 new, 0 changed, 1 unchanged (1 only touched" in summary(third)
    assert stored(prefix, tmp_path)["b.jpg"]["source"]["mtime_ns"] == later + 1


def test_documents_stored_before_sources_count_unchanged_until_force(prefix, tmp_path, proxy):
    shutil.copy(HOPPER, tmp_path / "a.jpg")
    assert facescope(prefix, tmp_path, "detect", str(tmp_path)).returncode == 0
    pk = stored(prefix, tmp_path)["a.jpg"]["pk"]
    r = redis.Redis.from_url(REDIS_URL or "")
    r.execute_command("JSON.DEL", f"{prefix}{pk}", "$.source")
    shutil.copy(GROUP, tmp_path / "a.jpg")
    before = proxy.infer_requests
    plain = facescope(prefix, tmp_path, "detect", str(tmp_path), TRITON_SERVER_URL=proxy.url)
    assert plain.returncode == 0, plain.stderr
    assert "0 new, 0 changed, 1 unchanged" in summary(plain)
    assert proxy.infer_requests == before
    assert "source" not in stored(prefix, tmp_path)["a.jpg"]
    forced = facescope(prefix, tmp_path, "detect", "--force", str(tmp_path), TRITON_SERVER_URL=proxy.url)
    assert forced.returncode == 0, forced.stderr
    doc = stored(prefix, tmp_path)["a.jpg"]
    assert len(doc["faces"]) == 6 and doc["source"]["sha256"] == sha256(tmp_path / "a.jpg")


def test_prune_dry_run_lists_prune_removes_only_deleted_files_and_refuses_a_missing_folder(prefix, tmp_path):
    images = tmp_path / "images"
    for name in ("keep.jpg", "gone.jpg", "2019/gone-too.jpg", "2019/keep.jpg", "nas/2020/x.jpg"):
        (images / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BABOON, images / name)
    assert facescope(prefix, images, "detect", str(images)).returncode == 0
    (images / "gone.jpg").unlink()
    (images / "2019" / "gone-too.jpg").unlink()
    # A share that is not mounted: its mount point is there, empty.
    shutil.rmtree(images / "nas" / "2020")

    dry = facescope(prefix, images, "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == ["would remove 2019/gone-too.jpg", "would remove gone.jpg"]
    assert "kept nas/2020/x.jpg" in dry.stderr and "is empty" in dry.stderr
    assert len(stored(prefix, images)) == 5

    narrowed = facescope(prefix, images, "prune", str(images / "2019"))
    assert narrowed.returncode == 0, narrowed.stderr
    assert narrowed.stdout.splitlines() == ["removed 2019/gone-too.jpg"]
    outside = facescope(prefix, images, "prune", str(tmp_path))
    assert outside.returncode == 2 and "not inside the images folder" in outside.stderr

    done = facescope(prefix, images, "prune")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["removed gone.jpg"]
    assert "checked 4 documents: 1 removed, 1 kept because their files cannot be checked" in done.stderr
    assert sorted(stored(prefix, images)) == ["2019/keep.jpg", "keep.jpg", "nas/2020/x.jpg"]

    # The whole images folder gone (an unmounted drive): nothing is removed, and it says why.
    images.rename(tmp_path / "elsewhere")
    refused = facescope(prefix, images, "prune")
    assert refused.returncode == 1
    assert "the images folder" in refused.stderr and "does not exist" in refused.stderr
    assert "nothing pruned" in refused.stderr
    assert refused.stdout == ""
    images.mkdir()
    empty = facescope(prefix, images, "prune")
    assert empty.returncode == 1 and "is empty" in empty.stderr
    assert len(stored(prefix, images)) == 3


def wait_for(condition, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_watch_detects_new_and_changed_files_prunes_deleted_ones_and_stops_on_ctrl_c(prefix, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(BABOON, images / "before.jpg")
    watch = subprocess.Popen([FACESCOPE or "facescope", "watch", str(images), "--prune", "--settle", "0.3"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(prefix, images))
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(watch.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.startswith("watching") for line in err), "the watch to start")
        assert "before.jpg" in stored(prefix, images)

        # A new file in a new subfolder.
        (images / "trip" / "day1").mkdir(parents=True)
        shutil.copy(HOPPER, images / "trip" / "day1" / "new.jpg")
        doc = wait_for(lambda: stored(prefix, images).get("trip/day1/new.jpg"), "the new file's document")
        assert len(doc["faces"]) == 1

        # The same file with other content.
        shutil.copy(GROUP, images / "trip" / "day1" / "new.jpg")
        changed = wait_for(lambda: (d := stored(prefix, images).get("trip/day1/new.jpg")) and
                           d["source"]["sha256"] == sha256(images / "trip" / "day1" / "new.jpg") and d,
                           "the changed file's document")
        assert len(changed["faces"]) == 6 and changed["pk"] == doc["pk"]

        # Deleted: its document goes (--prune).
        (images / "before.jpg").unlink()
        wait_for(lambda: "before.jpg" not in stored(prefix, images), "the deleted file's document to go")
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            code = watch.wait(timeout=60)
        except subprocess.TimeoutExpired:
            watch.kill()
            raise
    reader.join(timeout=10)
    assert code == 130, "".join(err)
    assert any("stopped watching" in line for line in err)
    assert list(stored(prefix, images)) == ["trip/day1/new.jpg"]
