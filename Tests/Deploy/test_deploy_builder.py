"""triton-model-builder's script (docker/model-builder/build-models.sh), run here with stand-ins for
the GPU tools (tao-converter, nvidia-smi, DALI's Python, the NGC CLI, curl) that record how they
were called: what it builds, with which options, that a second run builds nothing, what makes it
rebuild, how it downloads, and how it fails."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from deploy_support import GPU_REPOSITORY, ROOT, contract_problems, contracts, read_config

SCRIPT = ROOT / "docker" / "model-builder" / "build-models.sh"
PIPELINES = ROOT / "docker" / "triton-server" / "pipelines"
FACENET = "facenet_vpruned_quantized_v2.0.1"
FPENET = "fpenet_vdeployable_v3.0"

FAKES = {
    "tao-converter": """#!/usr/bin/env bash
echo "tao-converter $*" >>"$FAKE_LOG"
[ -z "${FAKE_CONVERTER_FAIL:-}" ] || { echo "converter: failing as asked" >&2; exit 3; }
out=""; prev=""
for a in "$@"; do [ "$prev" = -e ] && out="$a"; prev="$a"; done
printf 'engine %s\\n' "$*" >"$out"
""",
    "nvidia-smi": """#!/usr/bin/env bash
echo "${FAKE_GPU:-NVIDIA H200, 9.0}"
""",
    "python": """#!/usr/bin/env bash
if [ "$1" = -c ]; then echo "${FAKE_DALI:-1.36.0}"; exit 0; fi
echo "python $*" >>"$FAKE_LOG"
printf 'dali %s\\n' "$*" >"$2"
""",
    "curl": """#!/usr/bin/env bash
out=""; prev=""
for a in "$@"; do [ "$prev" = -o ] && out="$a"; prev="$a"; done
echo "curl ${*: -1}" >>"$FAKE_LOG"
cp "$FAKE_ZIP" "$out"
""",
}
FAKE_NGC = """#!/usr/bin/env bash
echo "ngc $* key=${NGC_CLI_API_KEY:-none}" >>"$FAKE_LOG"
dest=""; prev=""
for a in "$@"; do [ "$prev" = --dest ] && dest="$a"; prev="$a"; done
name="${4#*/*/}"; dir="$dest/${name%%:*}_v${name#*:}"
mkdir -p "$dir" && echo etlt >"$dir/model.etlt" && echo cal >"$dir/int8_calibration.txt"
"""


class Builder:
    """The script with its stand-ins and folders, in a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        for name, text in FAKES.items():
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)
        self.models = root / "models"
        self.ngc = root / "ngc"
        self.log = root / "calls.log"
        self.log.touch()
        self.env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "MODEL_REPOSITORY": str(self.models),
            "MODEL_TEMPLATE": str(GPU_REPOSITORY),
            "PIPELINES_DIR": str(PIPELINES),
            "NGC_MODELS_DIR": str(self.ngc),
            "PYTHON": str(self.bin / "python"),
            "TRT_VERSION": "8.6.3",
            "FACENET_MAX_BATCH": "8",
            "FPENET_MAX_BATCH": "8",
            "FAKE_LOG": str(self.log),
        }

    def add_models(self) -> None:
        for folder in (FACENET, FPENET):
            (self.ngc / folder).mkdir(parents=True, exist_ok=True)
            (self.ngc / folder / "model.etlt").write_text(f"{folder} weights")
            (self.ngc / folder / "int8_calibration.txt").write_text(f"{folder} calibration")

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        return subprocess.run(
            ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120, env={**self.env, **env}
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def builder(tmp_path: Path) -> Builder:
    b = Builder(tmp_path)
    b.add_models()
    return b


def built(calls: list[str]) -> list[str]:
    """Which outputs the calls built."""
    names = []
    for call in calls:
        if call.startswith("tao-converter"):
            names.append("facenet" if "/facenet/" in call else "fpenet")
        elif call.startswith("python"):
            names.append("facenet_preprocess")
    return sorted(names)


def test_first_run_builds_the_repository_and_the_second_builds_nothing(builder):
    first = builder.run()
    assert first.returncode == 0, first.stderr
    calls = builder.calls()
    assert built(calls) == ["facenet", "facenet_preprocess", "fpenet"]
    [facenet] = [c for c in calls if "/facenet/" in c]
    [fpenet] = [c for c in calls if "/fpenet/" in c]
    for option in ("-k nvidia_tlt", "-t int8", f"-c {builder.ngc}/{FACENET}/int8_calibration.txt", "-m 8",
                   "-d 3,416,736", "-o output_cov/Sigmoid,output_bbox/BiasAdd",
                   f"-e {builder.models}/facenet/1/model.plan.partial"):
        assert option in facenet, option
    assert facenet.endswith(f"{builder.ngc}/{FACENET}/model.etlt")
    assert "-p input_face_images,1x1x80x80,4x1x80x80,8x1x80x80" in fpenet
    assert fpenet.endswith(f"{builder.ngc}/{FPENET}/model.etlt")
    [dali] = [c for c in calls if c.startswith("python")]
    assert dali.endswith("--batch 8") and "facenet_preprocess.py" in dali

    repo = builder.models
    for output in ("facenet/1/model.plan", "fpenet/1/model.plan", "facenet_preprocess/1/model.dali"):
        assert (repo / output).stat().st_size > 0, output
        assert (repo / f"{output}.stamp").is_file(), output
        assert not (repo / f"{output}.partial").exists(), output
    assert (repo / "facenet_encoded" / "1").is_dir(), "an ensemble needs its version folder"
    assert (repo / "facerec" / "1" / "model.py").read_bytes() == (GPU_REPOSITORY / "facerec/1/model.py").read_bytes()

    # The assembled repository still meets the contracts, with this run's batch sizes.
    configs = {p.parent.name: read_config(p) for p in repo.glob("*/config.pbtxt")}
    assert {n: c.max_batch_size for n, c in configs.items()} == {
        "facenet": 8, "fpenet": 8, "facenet_preprocess": 8, "facenet_encoded": 8, "facerec": 16,
    }
    for model, contract in contracts().items():
        assert contract_problems(configs[model], contract) == []

    second = builder.run()
    assert second.returncode == 0, second.stderr
    assert builder.calls() == [], "an up-to-date repository is left alone"
    assert second.stderr.count("up to date") == 3
    assert builder.run("--check").returncode == 0


def test_it_rebuilds_exactly_what_changed(builder):
    assert builder.run().returncode == 0
    (builder.ngc / FPENET / "model.etlt").write_text("new weights")
    assert builder.run("--check").returncode == 1
    assert builder.calls() == [], "--check builds nothing"
    assert builder.run().returncode == 0
    assert built(builder.calls()) == ["fpenet"]

    assert builder.run(FAKE_GPU="NVIDIA L4, 8.9").returncode == 0
    assert built(builder.calls()) == ["facenet", "fpenet"], "engines belong to one GPU"
    assert builder.run(FAKE_GPU="NVIDIA L4, 8.9", TRT_VERSION="10.0.1").returncode == 0
    assert built(builder.calls()) == ["facenet", "fpenet"], "and to one TensorRT"
    env = {"FAKE_GPU": "NVIDIA L4, 8.9", "TRT_VERSION": "10.0.1"}
    assert builder.run(FACENET_MAX_BATCH="4", **env).returncode == 0
    assert built(builder.calls()) == ["facenet", "facenet_preprocess"]
    assert builder.run(FACENET_MAX_BATCH="4", FAKE_DALI="1.37.0", **env).returncode == 0
    assert built(builder.calls()) == ["facenet_preprocess"]
    assert builder.run("--force", FACENET_MAX_BATCH="4", FAKE_DALI="1.37.0", **env).returncode == 0
    assert built(builder.calls()) == ["facenet", "facenet_preprocess", "fpenet"]


def test_it_downloads_from_ngcs_public_catalog_without_a_key(tmp_path):
    builder = Builder(tmp_path)
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("model.etlt", "weights")
        z.writestr("int8_calibration.txt", "calibration")
    done = builder.run(FAKE_ZIP=str(archive))
    assert done.returncode == 0, done.stderr
    downloads = [c for c in builder.calls() if c.startswith("curl")]
    assert downloads == [
        "curl https://api.ngc.nvidia.com/v2/models/nvidia/tao/facenet/versions/pruned_quantized_v2.0.1/zip",
        "curl https://api.ngc.nvidia.com/v2/models/nvidia/tao/fpenet/versions/deployable_v3.0/zip",
    ]
    assert (builder.ngc / FACENET / "model.etlt").is_file()
    assert built(builder.calls()) == ["facenet", "facenet_preprocess", "fpenet"]


def test_it_downloads_with_the_ngc_cli_when_given_a_key_and_never_prints_it(tmp_path):
    builder = Builder(tmp_path)
    (builder.bin / "ngc").write_text(FAKE_NGC)
    (builder.bin / "ngc").chmod(0o755)
    done = builder.run(NGC_API_KEY="s3cr3t-key")
    assert done.returncode == 0, done.stderr
    ngc = [c for c in builder.calls() if c.startswith("ngc")]
    assert ngc == [
        f"ngc registry model download-version nvidia/tao/facenet:pruned_quantized_v2.0.1 --dest {builder.ngc} key=s3cr3t-key",
        f"ngc registry model download-version nvidia/tao/fpenet:deployable_v3.0 --dest {builder.ngc} key=s3cr3t-key",
    ]
    assert "s3cr3t" not in done.stdout + done.stderr
    assert not [c for c in builder.calls() if c.startswith("curl")]


def test_failures_stop_it_and_leave_no_half_built_engine(builder):
    done = builder.run(FAKE_CONVERTER_FAIL="1")
    assert done.returncode != 0
    assert "facenet: the build failed" in done.stderr
    assert not (builder.models / "facenet" / "1" / "model.plan").exists()
    assert not (builder.models / "facenet" / "1" / "model.plan.stamp").exists()

    (builder.bin / "nvidia-smi").unlink()
    done = builder.run()
    assert done.returncode != 0 and "no GPU visible" in done.stderr

    done = builder.run(FPENET_MAX_BATCH="many")
    assert done.returncode != 0 and "positive integers" in done.stderr

    (builder.ngc / FACENET / "other_calibration.txt").write_text("?")
    (builder.bin / "nvidia-smi").write_text(FAKES["nvidia-smi"])
    (builder.bin / "nvidia-smi").chmod(0o755)
    done = builder.run()
    assert done.returncode != 0 and "several *calibration*" in done.stderr


def test_help_is_the_scripts_header():
    done = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0
    assert done.stdout.startswith("# Assembles") and "set -euo" not in done.stdout
