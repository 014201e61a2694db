"""The Dockerfiles: multi-stage, pinned, non-root, no secrets, built by the README's own scripts;
the runtime libraries worked out from the binary; the GPU check's comparison logic."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deploy_support import DOCKERFILES, ROOT, arg_defaults, dockerfile, env_values, require_services, setup_array

RUNTIME_PACKAGES = ROOT / "docker" / "runtime-packages.sh"
BY_NAME = {path.parent.name: path for path in DOCKERFILES}


def stages(path: Path) -> list[list]:
    """A Dockerfile's instructions split by FROM."""
    result: list[list] = []
    for instruction in dockerfile(path):
        if instruction.keyword == "FROM":
            result.append([instruction])
        elif result:
            result[-1].append(instruction)
    return result


def resolve(image: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)


def test_the_four_images():
    assert set(BY_NAME) == {"client", "cpu", "triton-server", "model-builder"}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_multi_stage_with_pinned_bases(name):
    path = BY_NAME[name]
    args = arg_defaults(path)
    parts = stages(path)
    assert len(parts) >= 2, f"{name}: one stage only"
    own_stages = set()
    for stage in parts:
        words = stage[0].arguments.split()
        base = resolve(words[0], args)
        if base not in own_stages:
            repository, _, tag = base.rpartition(":")
            assert repository and tag and tag != "latest" and "$" not in base, f"{name}: base {base} is not pinned"
        if len(words) == 3 and words[1].upper() == "AS":
            own_stages.add(words[2])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_runs_as_a_user_and_bakes_in_no_secret(name):
    path = BY_NAME[name]
    final = stages(path)[-1]
    users = [i.arguments for i in final if i.keyword == "USER"]
    if name == "model-builder":
        # Documented in its Dockerfile: writes a host bind mount whose owner varies, needs the GPU.
        assert users == []
    else:
        assert users and users[-1] not in ("root", "0"), f"{name}: the final stage runs as root"
    for instruction in dockerfile(path):
        if instruction.keyword in ("ARG", "ENV"):
            names = re.findall(r"(\w+)=", instruction.arguments) or [instruction.arguments.split()[0]]
            for variable in names:
                assert not re.search(r"KEY|TOKEN|PASSWORD|SECRET", variable), f"{name}: {variable} in the image"


def test_argument_defaults_are_the_env_files_pins():
    env = env_values()
    expected = {
        "client": {"SWIFT_IMAGE": env["SWIFT_IMAGE"], "RUNTIME_IMAGE": env["DEBIAN_IMAGE"]},
        "cpu": {"DEBIAN_IMAGE": env["DEBIAN_IMAGE"]},
        "triton-server": {"TRITON_IMAGE": env["TRITON_IMAGE"]},
        "model-builder": {"TENSORRT_IMAGE": env["TENSORRT_IMAGE"]},
    }
    for name, pins in expected.items():
        defaults = arg_defaults(BY_NAME[name])
        for arg, value in pins.items():
            assert defaults[arg] == value, f"{name}: ARG {arg}={defaults.get(arg)} but .env says {value}"


def test_engines_are_built_with_the_servers_tensorrt_release():
    env = env_values()
    release = lambda image: image.rsplit(":", 1)[1].split("-")[0]  # noqa: E731
    assert release(env["TRITON_IMAGE"]) == release(env["TENSORRT_IMAGE"])
    builder = arg_defaults(BY_NAME["model-builder"])
    # tao-converter's build names its TensorRT; release 24.04 ships TensorRT 8.6.3.
    assert "8.6.3" in builder["TAO_CONVERTER_VERSION"] and release(env["TRITON_IMAGE"]) == "24.04"


def test_the_images_build_with_the_readmes_setup_script():
    client = [i.arguments for i in dockerfile(BY_NAME["client"])]
    assert "scripts/common.sh scripts/setup.sh scripts/" in client
    assert any(a.startswith("scripts/setup.sh --system-only") for a in client)
    cpu = [i.arguments for i in dockerfile(BY_NAME["cpu"])]
    assert "scripts/common.sh scripts/setup.sh scripts/" in cpu
    assert any(a.startswith("scripts/setup.sh &&") for a in cpu)


def test_setup_system_only_installs_the_system_packages_and_nothing_else(tmp_path):
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), "--system-only"], capture_output=True, text=True, timeout=600,
        env={**os.environ, "FACESCOPE_STATE_DIR": str(tmp_path / "state")},
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "state").exists(), "--system-only made the Python environment"
    missing = []
    for package in setup_array("APT_PACKAGES"):
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    assert not missing


def test_every_system_library_target_has_its_package_in_setup():
    manifest = (ROOT / "Package.swift").read_text(encoding="utf-8")
    providers = set(re.findall(r'\.apt\(\[([^\]]*)\]\)', manifest))
    wanted = {p.strip().strip('"') for group in providers for p in group.split(",") if p.strip()}
    assert wanted, "Package.swift names no apt providers"
    assert wanted <= set(setup_array("APT_PACKAGES")), sorted(wanted - set(setup_array("APT_PACKAGES")))


def test_dockerignore_keeps_local_state_out_but_not_what_is_copied():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for local in (".services", ".build", ".git", ".env"):
        assert local in patterns, local

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)

    for path in DOCKERFILES:
        for instruction in dockerfile(path):
            if instruction.keyword == "COPY" and "--from=" not in instruction.arguments:
                sources = instruction.arguments.split()[:-1]
                for source in sources:
                    assert (ROOT / source).exists(), f"{path}: COPY {source} does not exist"
                    assert not ignored(source), f"{path}: COPY {source} is excluded by .dockerignore"


def facescope_binary() -> Path | None:
    candidate = Path(os.environ.get("FACESCOPE_BIN") or ROOT / ".build" / "debug" / "facescope")
    return candidate if candidate.exists() else None


def test_runtime_packages_are_read_off_the_binary():
    binary = facescope_binary()
    if binary is None:
        if require_services():
            pytest.fail("no facescope binary (FACESCOPE_BIN)")
        pytest.skip("no facescope binary: swift build first")
    # Here the Swift runtime is the toolchain's (the image links it statically): not packaged.
    swift_lib = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    toolchain = sorted({Path(m).parents[3] for m in re.findall(r"=> (\S*libswiftCore\.so)", swift_lib)})
    done = subprocess.run(
        [str(RUNTIME_PACKAGES), *[a for t in toolchain for a in ("--ignore", str(t))], str(binary)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    packages = done.stdout.split()
    assert packages == sorted(packages)
    for runtime in ("libhiredis0.14", "libcurl4", "libturbojpeg0", "libpng16-16", "libwebp7", "libexif12", "libc6"):
        assert runtime in packages, runtime
    assert not [p for p in packages if p.endswith("-dev")]
    if toolchain:
        # Without --ignore the toolchain's libraries belong to no package: an error, named.
        unowned = subprocess.run([str(RUNTIME_PACKAGES), str(binary)], capture_output=True, text=True, timeout=120)
        assert unowned.returncode == 1 and "libswiftCore.so belongs to no package" in unowned.stderr


def test_runtime_packages_refuses_what_it_cannot_read(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a program")
    done = subprocess.run([str(RUNTIME_PACKAGES), str(text)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not an ELF file" in done.stderr
    done = subprocess.run([str(RUNTIME_PACKAGES), str(tmp_path / "missing")], capture_output=True, text=True)
    assert done.returncode == 1 and "does not exist" in done.stderr


def load_compare():
    spec = importlib.util.spec_from_file_location("gpu_compare", ROOT / "docker" / "gpu-check" / "compare.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_gpu_check_computes_the_clients_tensor_with_exif_orientation():
    pytest.importorskip("PIL")
    compare = load_compare()
    upright, shape = compare.client_tensor(ROOT / "Tests/Fixtures/images/orient-1.jpg")
    assert upright.shape == (3, 416, 736) and upright.dtype == np.float32
    assert 0.0 <= upright.min() and upright.max() <= 1.0
    # The fixtures store one picture in all eight EXIF orientations (5-8 with width and height
    # swapped): oriented, each must give the upright picture's tensor, as DALI's must.
    for n in range(2, 9):
        tensor, oriented = compare.client_tensor(ROOT / f"Tests/Fixtures/images/orient-{n}.jpg")
        assert oriented == shape, n
        assert float(np.abs(tensor - upright).mean()) < 0.01, n
    for name in compare.DEFAULT_IMAGES:
        assert (ROOT / name).is_file(), name


def test_gpu_check_judges_differences():
    compare = load_compare()
    rng = np.random.default_rng(1)
    reference = rng.random((3, 416, 736), dtype=np.float32)
    grid = np.zeros((1, 26, 46), dtype=np.float32)
    grid[0, 10, 20] = 0.9
    tolerances = compare.Tolerances()
    same = compare.judge("a", reference, reference, (100, 200, 3), (100, 200, 3), grid, grid, 1000, tolerances)
    assert same.problems == []
    shifted = np.roll(reference, 5, axis=2)
    moved = np.roll(grid, 3, axis=2)
    off = compare.judge("b", shifted, reference, (200, 100, 3), (100, 200, 3), moved, grid, 1000, tolerances)
    assert len(off.problems) == 5, off.problems
