"""The .env file: every setting the code reads is there with a comment and its default, every
variable in it is read by something, and nothing in it is secret or belongs to one machine."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from deploy_support import (
    COMPOSE_FILE,
    ENV_FILE,
    ROOT,
    compose_variables,
    read_env,
    require_services,
    settings_specs,
)


def test_every_line_is_a_plain_assignment_with_a_comment_and_no_key_twice():
    entries = read_env()
    keys = [e.key for e in entries]
    assert len(keys) == len(set(keys)), f"defined twice: {sorted({k for k in keys if keys.count(k) > 1})}"
    for entry in entries:
        assert entry.comment, f".env line {entry.line}: {entry.key} has no comment above it"


def test_every_setting_the_client_reads_is_there_with_its_default():
    specs = settings_specs()
    values = {e.key: e.value for e in read_env()}
    missing = sorted(set(specs) - set(values))
    assert not missing, f"settings missing from .env: {missing}"
    # The file only documents: a facescope run in this folder behaves as without it.
    different = {k: (values[k], d) for k, d in specs.items() if values[k] != d}
    assert not different, f".env values differ from Settings.swift's defaults (value, default): {different}"


def test_every_variable_is_read_by_the_client_or_by_compose():
    compose_text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(compose_variables(compose_text)) | set(settings_specs())
    unused = sorted(e.key for e in read_env() if e.key not in used)
    assert not unused, f".env variables nothing reads: {unused}"


def test_nothing_secret_or_machine_specific():
    for entry in read_env():
        name, value = entry.key, entry.value
        assert not any(word in name for word in ("PASSWORD", "TOKEN", "SECRET", "API_KEY")), name
        assert "@" not in value, f"{name}: credentials in a URL"
        assert not value.startswith(("/", "~")), f"{name}: an absolute path belongs to one machine"
        assert "/home/" not in value and "/root" not in value and "/Users/" not in value, name
        if "://" in value or name.endswith("_URL"):
            host = value.split("://")[-1].split("/")[0].rsplit(":", 1)[0]
            assert host in ("localhost", "127.0.0.1"), f"{name}: a host of one network"
    for name in ("HOST_IMAGES_DIR", "NGC_MODELS_DIR"):
        folder = ROOT / dict((e.key, e.value) for e in read_env())[name]
        assert folder.is_dir(), f"{name} names {folder}, which is not a folder of this repository"


def test_the_env_check_catches_an_undocumented_variable(tmp_path):
    bad = tmp_path / ".env"
    bad.write_text(ENV_FILE.read_text(encoding="utf-8") + "\nSTRAY=1\n")
    [stray] = [e for e in read_env(bad) if e.key == "STRAY"]
    assert not stray.comment
    bad.write_text('QUOTED="a b"\n')
    with pytest.raises(AssertionError, match="plain KEY=VALUE"):
        read_env(bad)


def facescope_binary() -> Path | None:
    candidate = Path(os.environ.get("FACESCOPE_BIN") or ROOT / ".build" / "debug" / "facescope")
    return candidate if candidate.exists() else None


def settings_line(cwd: Path, binary: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in settings_specs()}
    done = subprocess.run(
        [str(binary), "doctor", "--json"], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )
    assert done.returncode in (0, 1), f"facescope refused the settings: {done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])[0]


def test_facescope_reads_the_file_as_its_defaults(tmp_path):
    binary = facescope_binary()
    if binary is None:
        if require_services():
            pytest.fail("no facescope binary (FACESCOPE_BIN)")
        pytest.skip("no facescope binary: swift build first")
    here = settings_line(ROOT, binary)
    elsewhere = settings_line(tmp_path, binary)
    assert here["check"] == "settings" and here["ok"]
    assert here == elsewhere
    # And a bad value in it would be refused: the file is really read.
    (tmp_path / ".env").write_text("FACESCOPE_REDIS_TIMEOUT=soon\n")
    env = {k: v for k, v in os.environ.items() if k not in settings_specs()}
    done = subprocess.run([str(binary), "doctor"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert done.returncode == 2 and "FACESCOPE_REDIS_TIMEOUT" in done.stderr


def test_the_configuration_document_lists_every_setting_and_variable():
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    for variable, default in settings_specs().items():
        row = next((line for name, line in rows.items() if f"`{variable}`" in name), None)
        assert row is not None, f"docs/configuration.md has no row for {variable}"
        shown = row.split("|")[3].strip()
        assert shown == (f"`{default}`" if default else "empty"), f"{variable}: the document says {shown}"
    for entry in read_env():
        assert f"`{entry.key}`" in text, f"docs/configuration.md does not mention {entry.key}"
