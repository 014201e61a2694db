"""docker-compose.yml: valid by the compose specification, and pointing at what exists, with the
services, profiles, GPU reservations, health checks, settings and secrets the deployment needs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deploy_support import (
    COMPOSE_FILE,
    CPU_REPOSITORY,
    DOCKERFILES,
    ROOT,
    RUNTIME_ONLY,
    Undefined,
    compose,
    compose_variables,
    dockerfile,
    env_values,
    interpolate,
    load_yaml,
    schema_errors,
    settings_specs,
    tool,
)

SERVICES = {"redis-db", "redisinsight", "triton-model-builder", "triton-server", "triton-cpu", "triton-client"}


@pytest.fixture(scope="module")
def project() -> dict:
    return compose()


def test_the_file_validates_against_the_compose_specification(project, tmp_path):
    # As written (check-jsonschema's command, as a pre-commit hook would run it) ...
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # ... and as compose sees it once .env is interpolated.
    assert schema_errors(project) == []


def test_the_validation_catches_broken_files():
    broken = load_yaml(COMPOSE_FILE.read_text(encoding="utf-8"))
    broken["services"]["triton-server"]["healthchek"] = broken["services"]["triton-server"].pop("healthcheck")
    broken["services"]["triton-client"]["depends_on"]["redis-db"]["condition"] = "service_ready"
    broken["services"]["redis-db"]["ports"] = "6379:6379"
    errors = schema_errors(compose_env(broken))
    assert len(errors) >= 3, errors
    with pytest.raises(Undefined):
        interpolate("${NOT_IN_ENV}", env_values())


def compose_env(document: dict) -> dict:
    from deploy_support import interpolated

    return interpolated(document, env_values())


def test_every_variable_is_defined_in_env_or_given_at_run_time():
    env = env_values()
    for name, has_default in compose_variables(COMPOSE_FILE.read_text(encoding="utf-8")).items():
        if name in RUNTIME_ONLY:
            assert has_default, f"${{{name}}} needs a default: it is not in .env"
            assert name not in env, f"{name} is a secret: keep it out of .env"
        else:
            assert name in env, f"${{{name}}} is not defined in .env"


def test_services_and_profiles(project):
    services = project["services"]
    assert set(services) == SERVICES
    profiles = {name: service.get("profiles", []) for name, service in services.items()}
    assert profiles == {
        "redis-db": [], "triton-client": [], "redisinsight": ["insight"],
        "triton-model-builder": ["gpu"], "triton-server": ["gpu"], "triton-cpu": ["cpu"],
    }
    assert project["name"] == "facescope"


def test_builds_and_bind_mounts_point_at_existing_paths(project):
    built = []
    for name, service in project["services"].items():
        build = service.get("build")
        if build:
            context = (ROOT / build["context"]).resolve()
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            assert context == ROOT, f"{name}: images build from the repository root"
            assert dockerfile.is_file(), f"{name}: no {dockerfile}"
            built.append(dockerfile)
            assert service["image"].startswith("facescope/"), name
            # Every build argument is one the Dockerfile declares.
            declared = {line.split()[1].split("=")[0] for line in dockerfile.read_text().splitlines()
                        if line.startswith("ARG ")}
            assert set(build.get("args", {})) <= declared, name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: the bind mount {source} does not exist"
            else:
                assert source in project["volumes"], f"{name}: the volume {source} is not declared"
    assert sorted(built) == sorted(DOCKERFILES), "every Dockerfile in docker/ is built by a service"


def test_gpu_services_reserve_nvidia_gpus(project):
    for name in ("triton-model-builder", "triton-server"):
        [device] = project["services"][name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"], name
        count = device["count"]
        assert count == "all" or int(count) >= 1, name
    for name in ("triton-cpu", "triton-client", "redis-db"):
        assert "deploy" not in project["services"][name], f"{name} must run without a GPU"


def test_triton_health_checks(project):
    server = project["services"]["triton-server"]
    assert server["healthcheck"]["test"][-1].endswith(":8000/v2/health/ready")
    cpu = " ".join(project["services"]["triton-cpu"]["healthcheck"]["test"])
    for model in (p.name for p in CPU_REPOSITORY.iterdir() if (p / "config.pbtxt").exists()):
        assert model in cpu, f"the CPU health check does not wait for {model}"
    assert "/v2/models/$m/ready" in cpu
    assert server["depends_on"]["triton-model-builder"]["condition"] == "service_completed_successfully"


def test_either_triton_answers_as_triton(project):
    client = project["services"]["triton-client"]
    assert client["environment"]["TRITON_SERVER_URL"] == "triton:8000"
    for name in ("triton-server", "triton-cpu"):
        service = project["services"][name]
        assert service["networks"]["default"]["aliases"] == ["triton"], name
        published = {p.rsplit(":", 1)[1] for p in service["ports"]}
        assert published == {"8000", "8001", "8002"}, name
        assert all(p.startswith(env_values()["PUBLISH_ADDRESS"] + ":") for p in service["ports"]), name
    depends = client["depends_on"]
    assert depends["redis-db"] == {"condition": "service_healthy"}
    for name in ("triton-server", "triton-cpu"):
        assert depends[name] == {"condition": "service_healthy", "required": False}, name


def test_the_client_gets_every_setting_and_the_image_folder(project):
    client = project["services"]["triton-client"]
    environment = client["environment"]
    missing = sorted(set(settings_specs()) - set(environment))
    assert not missing, f"settings compose does not pass to the client: {missing}"
    env = env_values()
    fixed = {"REDIS_OM_URL": "redis://redis-db:6379/0", "TRITON_SERVER_URL": "triton:8000", "IMAGES_DIR": "/images"}
    for name, value in environment.items():
        assert value == fixed.get(name, env.get(name)), name
    assert client["volumes"] == [f"{env['HOST_IMAGES_DIR']}:/images:ro"]
    # Every replica (--scale triton-client=N) queues the new images (a file is queued once however
    # many do) and then works on the one queue until it is drained.
    assert client["command"] == ["sh", "-c", "facescope enqueue /images; exec facescope worker"]
    assert "container_name" not in client and "ports" not in client, "replicas must not collide"


def test_redis_persists_and_is_checked(project):
    redis = project["services"]["redis-db"]
    assert "redis-data:/data" in redis["volumes"]
    assert "--appendonly yes" in redis["environment"]["REDIS_ARGS"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_the_ngc_key_reaches_only_the_builder_at_run_time(project):
    for name, service in project["services"].items():
        text = json.dumps(service)
        if name == "triton-model-builder":
            assert service["environment"]["NGC_API_KEY"] == ""  # from the caller's environment
            assert "NGC_API_KEY" not in json.dumps(service["build"]), "never a build argument"
        else:
            assert "NGC" not in text.replace("NGC_MODELS", ""), f"{name} sees the NGC key"
    for path in DOCKERFILES:
        for instruction in dockerfile(path):
            assert "NGC_API_KEY" not in instruction.arguments, f"{path}:{instruction.line} bakes the key in"


def test_third_party_images_are_pinned(project):
    for name, service in project["services"].items():
        image = service["image"]
        if name in ("redis-db", "redisinsight"):
            repository, _, tag = image.rpartition(":")
            assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"


def external_image_refs() -> list[tuple[str, str]]:
    env = env_values()
    return [(k, v) for k, v in env.items() if k.endswith("_IMAGE")]


@pytest.mark.parametrize(("name", "image"), external_image_refs())
def test_pinned_image_reference(name, image):
    repository, _, tag = image.rpartition(":")
    assert repository and "/" not in tag and tag not in ("", "latest"), f"{name}={image}"


def test_env_file_path_for_compose_is_the_repositorys():
    # compose reads .env beside docker-compose.yml; so do the tests.
    assert (COMPOSE_FILE.parent / ".env").is_file()
    assert Path(COMPOSE_FILE).parent == ROOT
