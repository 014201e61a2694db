"""Linters: shellcheck on every shell script, hadolint on every Dockerfile (both from PyPI via
scripts/setup.sh), Python's compiler on the deployment's Python files; and proof that each linter
does fail on a bad file."""

from __future__ import annotations

import py_compile
import subprocess
from pathlib import Path

from deploy_support import DOCKERFILES, ROOT, tool

DOCKER_SCRIPTS = sorted((ROOT / "docker").rglob("*.sh"))
PROJECT_SCRIPTS = sorted(p for p in (ROOT / "scripts").glob("*.sh") if p.name != "common.sh")


def run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=300, cwd=cwd)


def test_deployment_scripts_are_shellcheck_clean():
    assert {p.name for p in DOCKER_SCRIPTS} >= {"runtime-packages.sh", "build-models.sh", "gpu-check.sh"}
    done = run(tool("shellcheck"), *map(str, DOCKER_SCRIPTS))
    assert done.returncode == 0, done.stdout


def test_project_scripts_are_shellcheck_clean():
    # Followed into what they source (common.sh is checked through them), warnings and errors.
    done = run(tool("shellcheck"), "-x", "-P", "SCRIPTDIR", "--severity=warning", *map(str, PROJECT_SCRIPTS))
    assert done.returncode == 0, done.stdout


def test_shellcheck_fails_on_a_bad_script(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    done = run(tool("shellcheck"), str(bad))
    assert done.returncode != 0
    assert "SC2086" in done.stdout  # the unquoted $1


def test_dockerfiles_are_hadolint_clean():
    assert len(DOCKERFILES) == 4
    done = run(tool("hadolint"), "--no-color", *map(str, DOCKERFILES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    done = run(tool("hadolint"), "--no-color", str(bad))
    assert done.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3009", "DL3002"):
        assert rule in done.stdout, rule


def test_deployment_python_compiles(tmp_path):
    files = [*(ROOT / "docker").rglob("*.py"), *(ROOT / "Tests" / "Deploy").glob("*.py")]
    assert len(files) >= 3
    for path in files:
        py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)
