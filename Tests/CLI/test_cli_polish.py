"""Small things a demanding user notices: a mistyped command is named with what was meant, paths
are accepted as they were given to detect."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from test_cli import FACESCOPE, REDIS_URL, run
from test_detect import DATA, TRITON_URL

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)


def test_a_mistyped_command_says_what_was_meant():
    for typed, meant in (("lsit", "'list'"), ("serach", "'search'"), ("doctr", "'doctor'"), ("peopel", "'people'")):
        done = run(typed)
        assert done.returncode == 2, typed
        assert f"unknown command '{typed}'; did you mean {meant}" in done.stderr, done.stderr
    far = run("xyzzyplugh")
    assert far.returncode == 2 and "unknown command 'xyzzyplugh' (see 'facescope --help')" in far.stderr
    assert run("list", "--help").returncode == 0


def test_show_and_similar_take_the_path_given_to_detect_and_suggest_near_names(prefix, tmp_path):
    images = tmp_path / "images"
    (images / "trips").mkdir(parents=True)
    shutil.copy(DATA / "faces" / "portrait-grace-hopper.jpg", images / "trips" / "grace.jpg")
    shutil.copy(DATA / "no-faces" / "fruits.jpg", images / "trips" / "fruits.jpg")
    base = ["--redis-url", REDIS_URL, "--key-prefix", prefix]
    env = {"IMAGES_DIR": str(images), "TRITON_SERVER_URL": TRITON_URL or ""}
    done = run("detect", str(images), "--images-dir", str(images), *base, env=env)
    assert done.returncode == 0, done.stderr
    for given, cwd in (("trips/grace.jpg", None), (str(images / "trips" / "grace.jpg"), None),
                       ("./trips/grace.jpg", str(images)), ("grace.jpg", str(images / "trips"))):
        shown = run("show", given, "--json", *base, cwd=cwd, env=env)
        assert shown.returncode == 0, (given, shown.stderr)
        assert json.loads(shown.stdout)["filename"] == "trips/grace.jpg"
    near = run("show", "grace.jpeg", *base, env=env)
    assert near.returncode == 1 and "did you mean 'trips/grace.jpg'" in near.stderr, near.stderr
    nofaces = run("similar", "trips/fruits.jpg", *base, env=env)
    assert nofaces.returncode == 1 and "has no faces" in nofaces.stderr


def test_help_text_reflows_to_the_width_instead_of_breaking_mid_sentence():
    for command in (["search"], ["show"], ["import"], ["export"], []):
        out = run(*command, "--help").stdout
        paragraphs = out.split("\n\n")
        prose = [p for p in paragraphs[1:4] if p and not p.startswith(("USAGE", "OPTIONS", "ARGUMENTS"))
                 and not any(line.startswith(" ") for line in p.splitlines())]
        assert prose, command
        for paragraph in prose:
            lines = paragraph.splitlines()
            # Greedy wrapping: every line of a paragraph but its last fills most of the width.
            for line in lines[:-1]:
                assert len(line) >= 55, (command, line)


def test_delete_names_a_missing_file_without_its_control_characters(prefix):
    hostile = "gone\x1b[2J\x07.jpg"
    done = run("delete", hostile, "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert done.returncode == 1
    assert "no stored image 'gone" in done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
