"""The `facescope` command line end to end: exit statuses, settings precedence, safe output.

Runs the binary scripts/test.sh built (FACESCOPE_BIN) against the real Redis Stack it started.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

REDIS_URL = os.environ.get("FACESCOPE_TEST_REDIS_URL")
FACESCOPE = os.environ.get("FACESCOPE_BIN")
pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)


def run(*args: str, cwd: str | None = None, env: dict | None = None, stdin: str | None = None):
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_OM_URL", "FACESCOPE_KEY_PREFIX")}
    return subprocess.run(
        [FACESCOPE or "facescope", *args], capture_output=True, text=True, timeout=120,
        cwd=cwd, env={**base, **(env or {})}, input=stdin,
    )


def store(prefix: str, docs: list[dict]) -> None:
    text = "\n".join(json.dumps(d) for d in docs) + "\n"
    done = run("import", "-", "--redis-url", REDIS_URL, "--key-prefix", prefix, stdin=text)
    assert done.returncode == 0, done.stderr


def doc(name: str, faces: int = 0) -> dict:
    return {
        "pk": "", "filename": name, "channels": 3, "height": 10, "width": 20, "portrait": 0,
        "faces": [{"pk": "", "bbox": {"pk": "", "x1": 1, "y1": 1, "x2": 5, "y2": 5}, "probability": 90,
                   "label": None, "rotation": None, "descriptors": None}] * faces,
    }


def test_usage_errors_exit_2_and_teach():
    done = run("list", "--sort", "sideways")
    assert done.returncode == 2
    assert "sideways" in done.stderr
    done = run("list", "--redis-url", "http://nope")
    assert done.returncode == 2
    assert "invalid Redis URL" in done.stderr
    assert run("--help").returncode == 0
    assert "facescope doctor" in run("--help").stdout


def test_unreachable_redis_exits_1_with_one_line():
    done = run("list", "--redis-url", "redis://127.0.0.1:1/0")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to Redis at 127.0.0.1:1" in lines[0]


def test_doctor_reports_and_fails_on_plain_redis():
    triton = os.environ.get("FACESCOPE_TRITON_URL")
    ok = run("doctor", "--redis-url", REDIS_URL, *(["--triton-url", triton] if triton else ["--no-triton"]))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "RediSearch" in ok.stdout and "RedisJSON" in ok.stdout
    if triton:
        assert "matches the FaceNet face detector contract" in ok.stdout
        assert "matches the FPENet landmark estimator contract" in ok.stdout
    down = run("doctor", "--redis-url", REDIS_URL, "--triton-url", "127.0.0.1:1", "--json")
    assert down.returncode == 1
    assert any(c["check"] == "triton" and not c["ok"] for c in json.loads(down.stdout))
    plain = os.environ.get("FACESCOPE_TEST_PLAIN_REDIS_URL")
    if plain:
        bad = run("doctor", "--redis-url", plain, "--json", "--no-triton")
        assert bad.returncode == 1
        checks = json.loads(bad.stdout)
        assert any(not c["ok"] and "no JSON" in c["detail"] for c in checks)


def test_filenames_with_escape_sequences_are_printed_harmlessly(prefix):
    evil = "evil\x1b[2J\x1b]0;owned\x07\r.jpg"
    store(prefix, [doc(evil, 1), doc("fine.jpg")])
    for args in (["list"], ["search", "evil"], ["show", evil]):
        done = run(*args, "--redis-url", REDIS_URL, "--key-prefix", prefix)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\r" not in done.stdout
        assert "evil\ufffd[2J" in done.stdout
    # JSON output escapes them, and reads back to the exact name.
    out = run("list", "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix).stdout
    assert "\x1b" not in out
    assert evil in [json.loads(l)["filename"] for l in out.splitlines()]


def test_settings_precedence_flag_env_dotenv(prefix, tmp_path):
    store(prefix, [doc("one.jpg")])
    (tmp_path / ".env").write_text(f"REDIS_OM_URL=redis://127.0.0.1:1/0\nFACESCOPE_KEY_PREFIX={prefix}\n")
    # .env alone: its unreachable URL is used.
    assert run("list", cwd=tmp_path).returncode == 1
    # The environment beats .env.
    done = run("list", "--json", cwd=tmp_path, env={"REDIS_OM_URL": REDIS_URL})
    assert done.returncode == 0, done.stderr
    assert [json.loads(l)["filename"] for l in done.stdout.splitlines()] == ["one.jpg"]
    # A flag beats the environment.
    done = run("list", "--redis-url", "redis://127.0.0.1:1/0", cwd=tmp_path, env={"REDIS_OM_URL": REDIS_URL})
    assert done.returncode == 1


def test_list_pages_sorts_and_search_says_when_nothing_matches(prefix):
    store(prefix, [doc(f"p{i}.jpg", i % 3) for i in range(7)])
    base = ["--redis-url", REDIS_URL, "--key-prefix", prefix]
    names = lambda out: [json.loads(l)["filename"] for l in out.splitlines()]
    assert names(run("list", "--json", *base).stdout) == [f"p{i}.jpg" for i in range(7)]
    assert names(run("list", "--json", "--offset", "2", "--limit", "2", *base).stdout) == ["p2.jpg", "p3.jpg"]
    top = [len(json.loads(l)["faces"]) for l in run("list", "--json", "--sort", "faces", "--desc", *base).stdout.splitlines()]
    assert top == sorted(top, reverse=True)
    table = run("list", *base).stdout
    assert table.splitlines()[0].startswith("FILENAME")
    none = run("search", "zebra", *base)
    assert none.returncode == 1 and "no image matches 'zebra'" in none.stdout
    missing = run("show", "nope.jpg", *base)
    assert missing.returncode == 1 and "no stored image" in missing.stderr


def test_export_import_round_trip_without_duplicates(prefix, tmp_path):
    store(prefix, [doc("a.jpg", 2), doc("b.jpg")])
    base = ["--redis-url", REDIS_URL, "--key-prefix", prefix]
    out = tmp_path / "all.jsonl"
    assert run("export", "-o", str(out), *base).returncode == 0
    exported = out.read_text()
    assert len(exported.splitlines()) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(exported + "{not json\n")
    done = run("import", str(bad), *base)
    assert done.returncode == 1
    assert "bad.jsonl:3" in done.stderr
    assert run("export", *base).stdout == exported


def test_import_in_batches_reports_bad_lines_and_round_trips(prefix, tmp_path):
    """1,300 documents (three batches of 500): a bad line in the middle of the second batch is
    named by its line number and its neighbours are stored; importing the export again
    duplicates nothing; the export is the input exactly (as FaceScope writes documents)."""
    base = ["--redis-url", REDIS_URL, "--key-prefix", prefix]
    seed = run("import", "-", *base, stdin="".join(json.dumps(doc(f"seed/{i:04d}.jpg", i % 3)) + "\n" for i in range(1300)))
    assert seed.returncode == 0, seed.stderr
    canonical = tmp_path / "canonical.jsonl"
    assert run("export", "-o", str(canonical), *base).returncode == 0
    lines = canonical.read_text().splitlines()
    assert len(lines) == 1300
    # A fresh prefix: the export, spaced out as Python writes JSON, with a bad line at line 701.
    other = prefix.replace("cli", "clj", 1)
    try:
        mixed = [json.dumps(json.loads(l)) for l in lines]
        mixed.insert(700, '{"filename": "broken.jpg", "faces": [')
        source = tmp_path / "mixed.jsonl"
        source.write_text("\n".join(mixed) + "\n")
        moved = ["--redis-url", REDIS_URL, "--key-prefix", other]
        done = run("import", str(source), *moved)
        assert done.returncode == 1
        assert "mixed.jsonl:701:" in done.stderr
        assert "stored 1300 documents, 1 failed" in done.stderr
        # Imported again: every document replaces itself.
        again = run("import", str(canonical), *moved)
        assert again.returncode == 0, again.stderr
        assert "stored 1300 documents" in again.stderr
        assert "under a new pk" not in again.stderr
        out = run("export", *moved)
        assert out.returncode == 0
        assert sorted(out.stdout.splitlines()) == sorted(lines)
        listed = run("list", "--json", *moved).stdout.splitlines()
        assert sorted(json.loads(l)["filename"] for l in listed) == [f"seed/{i:04d}.jpg" for i in range(1300)]
        # No progress line when standard error is not a terminal.
        assert "\r" not in done.stderr and "\r" not in out.stderr
    finally:
        import redis

        r = redis.Redis.from_url(REDIS_URL)
        for name in (f"{other}index", f"facescope:{other}index"):
            try:
                r.execute_command("FT.DROPINDEX", name, "DD")
            except redis.ResponseError:
                pass
        for pattern in (f"facescope:{other}*", f"{other}*"):
            for key in r.scan_iter(match=pattern):
                r.delete(key)


def _with_terminal_stderr(args: list[str], stdin_path: str | None = None) -> tuple[int, str]:
    """Runs facescope with standard error on a pseudo-terminal (standard output a pipe); returns
    the exit status and everything written to the terminal."""
    import pty

    master, slave = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_OM_URL", "FACESCOPE_KEY_PREFIX")}
    with open(stdin_path or os.devnull, "rb") as stdin:
        proc = subprocess.Popen([FACESCOPE or "facescope", *args], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=slave, env=base)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closed: the command has exited
            break
        if not data:
            break
        chunks.append(data)
    proc.stdout.read()
    code = proc.wait(timeout=120)
    os.close(master)
    return code, b"".join(chunks).decode(errors="replace")


def test_import_and_export_show_progress_only_on_a_terminal(prefix, tmp_path):
    base = ["--redis-url", REDIS_URL, "--key-prefix", prefix]
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps(doc(f"p/{i:04d}.jpg", 1)) + "\n" for i in range(1600)))
    code, terminal = _with_terminal_stderr(["import", str(source), *base])
    assert code == 0, terminal
    # Count, rate and time left, redrawn in place, then cleared before the summary.
    assert "\rimported 500 (" in terminal and " s left (" in terminal and "/s)" in terminal
    assert "stored 1600 documents" in terminal
    code, terminal = _with_terminal_stderr(["export", "-o", str(tmp_path / "out.jsonl"), *base])
    assert code == 0, terminal
    assert "\rexported " in terminal and " of 1600" in terminal and "/s)" in terminal
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1600
    # In a pipe: no progress at all.
    done = run("export", *base)
    assert done.returncode == 0 and done.stderr == ""
