"""The detection queue end to end: `facescope enqueue`, several `facescope worker` processes, a
worker killed mid-run, a poison file, `facescope queue` and `queue retry`. The real binary, the
real CPU Triton, real Redis Stack (a key prefix of the test's own)."""
from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from test_detect import DATA, FACESCOPE, REDIS_URL, TRITON_URL, env

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and TRITON_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL, FACESCOPE_BIN)",
)
# Small photos keep the runs short: 512x600 with a face, 512x480 without.
SMALL = [DATA / "faces" / "portrait-grace-hopper.jpg", DATA / "no-faces" / "fruits.jpg"]


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL or "", decode_responses=True)


def facescope(prefix: str, images: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FACESCOPE or "facescope", *args], capture_output=True, text=True, timeout=timeout,
                          env=env(prefix, IMAGES_DIR=str(images)))


def start_worker(prefix: str, images: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([FACESCOPE or "facescope", "worker", "--json", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(prefix, IMAGES_DIR=str(images)))


def photos(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        name = f"photo-{i:02d}.jpg"
        shutil.copy(SMALL[i % len(SMALL)], folder / name)
        names.append(name)
    return names


def stored_per_filename(prefix: str) -> collections.Counter[str]:
    """Documents per filename, read from the keys themselves (not through an index)."""
    r = redis_client()
    counts: collections.Counter[str] = collections.Counter()
    for key in r.scan_iter(match=f"{prefix}*", _type="ReJSON-RL"):
        counts[json.loads(r.execute_command("JSON.GET", key, "$.filename"))[0]] += 1
    return counts


def queue_status(prefix: str, images: Path) -> dict:
    done = facescope(prefix, images, "queue", "--json", timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def pending_of(prefix: str, consumer: str) -> int:
    try:
        summary = redis_client().xpending(f"facescope:{prefix}queue", "workers")
    except Exception:
        return 0
    return next((c["pending"] for c in summary.get("consumers", []) if c["name"] == consumer), 0)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Lines:
    """Collects a process's standard output lines on a thread."""

    def __init__(self, process: subprocess.Popen[str]):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process):
        for line in process.stdout:
            self.lines.append(line)


def test_two_workers_one_killed_the_survivor_stores_every_file_once(prefix, tmp_path):
    images = tmp_path / "images"
    names = photos(images, 20)
    queued = facescope(prefix, images, "enqueue", str(images))
    assert queued.returncode == 0, queued.stderr
    assert "queued 20 files" in queued.stderr
    assert queue_status(prefix, images)["waiting"] == 20

    common = ("--reclaim-after", "2", "--concurrency", "2")
    doomed = start_worker(prefix, images, "--name", "doomed", *common)
    survivor = start_worker(prefix, images, "--name", "survivor", *common)
    try:
        doomed_out = Lines(doomed)
        # Killed once it has stored some and holds files it has not finished.
        wait_for(lambda: len(doomed_out.lines) >= 2 and pending_of(prefix, "doomed") > 0, 240,
                 "the first worker to store two files")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        held_when_killed = pending_of(prefix, "doomed")
        assert held_when_killed > 0
        out, err = survivor.communicate(timeout=300)
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert survivor.returncode == 0, err
    assert "taken over" in err, err  # the survivor claimed the killed worker's files
    counts = stored_per_filename(prefix)
    assert counts == {name: 1 for name in names}
    status = queue_status(prefix, images)
    assert status["waiting"] == 0 and status["in_progress"] == 0 and status["failed"] == []
    assert status["done"] + status["skipped"] == 20
    r = redis_client()
    assert r.xlen(f"facescope:{prefix}queue") == 0
    assert r.xpending(f"facescope:{prefix}queue", "workers")["pending"] == 0


def test_a_corrupt_file_goes_to_the_failed_list_with_its_error_and_retry_queues_it(prefix, tmp_path):
    images = tmp_path / "images"
    photos(images, 2)
    data = SMALL[0].read_bytes()
    (images / "poison.jpg").write_bytes(data[: len(data) // 3])  # a truncated JPEG
    assert facescope(prefix, images, "enqueue", str(images)).returncode == 0

    worked = facescope(prefix, images, "worker")
    assert worked.returncode == 0, worked.stderr  # drained: the failure is recorded in the queue
    assert "error: poison.jpg: " in worked.stderr and "truncated" in worked.stderr
    assert "2 images, 1 faces stored, 0 skipped, 1 failed" in worked.stderr
    status = queue_status(prefix, images)
    [letter] = status["failed"]
    assert letter["filename"] == "poison.jpg" and "truncated" in letter["error"] and letter["attempts"] == 1
    assert status["done"] == 2 and status["waiting"] == 0
    shown = facescope(prefix, images, "queue")
    assert shown.returncode == 0
    assert "failed       1" in shown.stdout
    assert "poison.jpg: " in shown.stdout and "truncated" in shown.stdout

    retried = facescope(prefix, images, "queue", "retry")
    assert retried.returncode == 0 and "queued 1 failed file again" in retried.stderr
    status = queue_status(prefix, images)
    assert status["waiting"] == 1 and status["failed"] == []
    # Mended, it goes through.
    shutil.copy(SMALL[0], images / "poison.jpg")
    again = facescope(prefix, images, "worker")
    assert again.returncode == 0, again.stderr
    assert sorted(stored_per_filename(prefix)) == ["photo-00.jpg", "photo-01.jpg", "poison.jpg"]
    assert queue_status(prefix, images)["done"] == 3


def test_a_file_missing_on_the_workers_host_is_tried_again_then_fails(prefix, tmp_path):
    images = tmp_path / "images"
    photos(images, 1)
    shutil.copy(SMALL[0], images / "gone.jpg")
    assert facescope(prefix, images, "enqueue", str(images)).returncode == 0
    (images / "gone.jpg").unlink()
    worked = facescope(prefix, images, "worker", "--reclaim-after", "0.5", "--max-attempts", "2")
    assert worked.returncode == 0, worked.stderr
    assert "(attempt 1; tried again later)" in worked.stderr
    [letter] = queue_status(prefix, images)["failed"]
    assert letter["filename"] == "gone.jpg" and "not found under" in letter["error"] and letter["attempts"] == 2
    assert list(stored_per_filename(prefix)) == ["photo-00.jpg"]


def test_enqueue_skips_stored_and_queued_files_unless_forced(prefix, tmp_path):
    images = tmp_path / "images"
    photos(images, 3)
    assert "queued 3 files" in facescope(prefix, images, "enqueue", str(images)).stderr
    twice = facescope(prefix, images, "enqueue", str(images))
    assert "queued 0 files, 3 in the queue already" in twice.stderr
    assert facescope(prefix, images, "worker").returncode == 0
    after = facescope(prefix, images, "enqueue", str(images))
    assert "queued 0 files, 3 already stored" in after.stderr
    forced = facescope(prefix, images, "enqueue", "--force", str(images / "photo-00.jpg"))
    assert "queued 1 file;" in forced.stderr
    assert facescope(prefix, images, "worker").returncode == 0
    assert stored_per_filename(prefix) == {"photo-00.jpg": 1, "photo-01.jpg": 1, "photo-02.jpg": 1}
    # A file whose content changed is queued again (as detect would detect it again).
    shutil.copy(SMALL[0], images / "photo-01.jpg")
    changed = facescope(prefix, images, "enqueue", str(images))
    assert "queued 1 file" in changed.stderr, changed.stderr
    assert facescope(prefix, images, "worker").returncode == 0
    assert stored_per_filename(prefix) == {"photo-00.jpg": 1, "photo-01.jpg": 1, "photo-02.jpg": 1}
    outside = facescope(prefix, images, "enqueue", str(SMALL[0]))
    assert outside.returncode == 1 and "lies outside the images folder" in outside.stderr


def test_sigterm_stops_the_worker_and_gives_its_files_back(prefix, tmp_path):
    images = tmp_path / "images"
    names = photos(images, 12)
    assert facescope(prefix, images, "enqueue", str(images)).returncode == 0
    worker = start_worker(prefix, images, "--name", "stopped", "--concurrency", "2")
    try:
        out = Lines(worker)
        wait_for(lambda: len(out.lines) >= 1, 240, "a stored file")
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 143, err
    status = queue_status(prefix, images)
    stored = sum(stored_per_filename(prefix).values())
    # Nothing held by the stopped worker; everything not stored is waiting for the next.
    assert status["in_progress"] == 0 and status["workers"] == {}
    assert status["waiting"] == len(names) - stored and stored < len(names)
    assert facescope(prefix, images, "worker").returncode == 0
    assert stored_per_filename(prefix) == {name: 1 for name in names}


def test_a_following_worker_waits_for_new_files_and_clear_empties_the_queue(prefix, tmp_path):
    images = tmp_path / "images"
    photos(images, 1)
    worker = start_worker(prefix, images, "--follow", "--name", "follower")
    try:
        out = Lines(worker)
        # The worker is waiting on an empty queue (its consumer is in the group) before any file is queued.
        wait_for(lambda: any(c["name"] == "follower"
                             for c in _consumers(prefix)), 60, "the worker to join the group")
        assert worker.poll() is None
        assert facescope(prefix, images, "enqueue", str(images)).returncode == 0
        wait_for(lambda: len(out.lines) >= 1, 120, "the queued file to be stored")
        assert json.loads(out.lines[0])["filename"] == "photo-00.jpg"
        assert worker.poll() is None  # still following
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 143
    # A failed file, then clear: the queue is empty, the stored document stays.
    (images / "bad.jpg").write_text("not an image")
    assert facescope(prefix, images, "enqueue", str(images / "bad.jpg")).returncode == 0
    assert facescope(prefix, images, "worker").returncode == 0
    assert len(queue_status(prefix, images)["failed"]) == 1
    cleared = facescope(prefix, images, "queue", "clear")
    assert cleared.returncode == 0 and "1 failed removed" in cleared.stderr
    status = queue_status(prefix, images)
    assert (status["waiting"], status["in_progress"], status["done"], status["failed"]) == (0, 0, 0, [])
    assert list(stored_per_filename(prefix)) == ["photo-00.jpg"]


def _consumers(prefix: str) -> list[dict]:
    try:
        return redis_client().xinfo_consumers(f"facescope:{prefix}queue", "workers")
    except Exception:
        return []
