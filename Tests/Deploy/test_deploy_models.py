"""The GPU and CPU model repositories against the client's contracts, against each other, and the
GPU server's DALI ensemble wired tensor by tensor."""

from __future__ import annotations

import ast
import copy
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from deploy_support import (
    CPU_REPOSITORY,
    GPU_REPOSITORY,
    ROOT,
    Tensor,
    contract_problems,
    contracts,
    env_values,
    parameters,
    read_config,
    setup_array,
    tensors,
)

PIPELINE = ROOT / "docker" / "triton-server" / "pipelines" / "facenet_preprocess.py"


def repository(root: Path) -> dict[str, object]:
    return {path.parent.name: read_config(path) for path in sorted(root.glob("*/config.pbtxt"))}


@pytest.fixture(scope="module")
def gpu() -> dict[str, object]:
    return repository(GPU_REPOSITORY)


@pytest.fixture(scope="module")
def cpu() -> dict[str, object]:
    return repository(CPU_REPOSITORY)


def test_every_config_parses_as_triton_reads_it_and_is_named_after_its_folder(gpu, cpu):
    assert set(gpu) == {"facenet", "fpenet", "facerec", "facenet_preprocess", "facenet_encoded"}
    assert set(cpu) == {"facenet", "fpenet", "facerec", "facenet_encoded"}
    for configs in (gpu, cpu):
        for folder, config in configs.items():
            assert config.name == folder
            assert config.max_batch_size > 0, f"{folder} does not batch"
            assert bool(config.platform) != bool(config.backend), f"{folder}: platform or backend, one of them"


@pytest.mark.parametrize("side", ["gpu", "cpu"])
def test_both_servers_meet_the_clients_contracts(side, gpu, cpu):
    configs = gpu if side == "gpu" else cpu
    for model, contract in contracts().items():
        assert model in configs, f"the {side} server has no {model}"
        assert contract_problems(configs[model], contract) == []


def test_the_contract_check_catches_a_wrong_model(gpu):
    facenet = contracts()["facenet"]
    wrong = copy.deepcopy(gpu["facenet"])
    wrong.input[0].dims[:] = [3, 544, 960]
    wrong.output[0].name = "output_cov"
    extra = wrong.input.add()
    extra.name = "scale"
    problems = contract_problems(wrong, facenet)
    assert len(problems) == 3, problems
    assert any("input 'input_1'" in p for p in problems)
    assert any("no output 'output_cov/Sigmoid'" in p for p in problems)
    assert any("does not send" in p for p in problems)


def test_gpu_and_cpu_servers_agree_model_by_model(gpu, cpu):
    for model in ("facenet", "fpenet", "facerec"):
        g, c = gpu[model], cpu[model]
        assert g.max_batch_size == c.max_batch_size, model
        assert tensors(g.input) == tensors(c.input), model
        # The GPU engine may have more outputs (FPENet's heatmaps); the CPU ones are all on the GPU.
        assert set(tensors(c.output)) <= set(tensors(g.output)), model
        assert g.HasField("dynamic_batching") and c.HasField("dynamic_batching"), model
    # The CPU backend's facenet_encoded stands in for the GPU ensemble: the same tensors (an
    # ensemble has no batcher of its own; its steps batch).
    g, c = gpu["facenet_encoded"], cpu["facenet_encoded"]
    assert g.max_batch_size == c.max_batch_size
    assert tensors(g.input) == tensors(c.input) and tensors(g.output) == tensors(c.output)


def test_max_batch_sizes_are_the_env_files():
    env = env_values()
    gpu_configs = repository(GPU_REPOSITORY)
    assert gpu_configs["facenet"].max_batch_size == int(env["FACENET_MAX_BATCH"])
    assert gpu_configs["fpenet"].max_batch_size == int(env["FPENET_MAX_BATCH"])
    for model in ("facenet_preprocess", "facenet_encoded"):
        assert gpu_configs[model].max_batch_size <= gpu_configs["facenet"].max_batch_size


def test_resize_modes_are_declared(gpu, cpu):
    # NVIDIA's FaceNet stretches; the CPU backend's dlib wants the aspect kept (backends/cpu/README.md).
    assert parameters(gpu["facenet"])["resize_mode"] == "stretch"
    assert parameters(gpu["facenet_encoded"])["resize_mode"] == "stretch"
    assert parameters(cpu["facenet"])["resize_mode"] == "letterbox"
    # Each encoded model resizes as its server's facenet wants; the client follows the declaration.
    assert parameters(cpu["facenet_encoded"])["resize_mode"] == "letterbox"


def test_gpu_models_run_where_they_should(gpu):
    kinds = {name: {g.kind for g in config.instance_group} for name, config in gpu.items() if name != "facenet_encoded"}
    from tritonclient.grpc import model_config_pb2 as pb

    gpu_kind = pb.ModelInstanceGroup.Kind.Value("KIND_GPU")
    cpu_kind = pb.ModelInstanceGroup.Kind.Value("KIND_CPU")
    assert kinds == {
        "facenet": {gpu_kind}, "fpenet": {gpu_kind}, "facenet_preprocess": {gpu_kind}, "facerec": {cpu_kind},
    }
    assert gpu["facenet"].platform == gpu["fpenet"].platform == "tensorrt_plan"
    assert gpu["facenet_preprocess"].backend == "dali"
    assert gpu["facerec"].backend == "python"
    assert gpu["facenet_encoded"].platform == "ensemble"


def test_the_ensemble_is_wired_tensor_by_tensor(gpu):
    ensemble = gpu["facenet_encoded"]
    available = {t.name: t for t in tensors(ensemble.input)}
    produced_outputs = set()
    for step in ensemble.ensemble_scheduling.step:
        model = gpu[step.model_name]
        assert ensemble.max_batch_size <= model.max_batch_size
        model_inputs = {t.name: t for t in tensors(model.input)}
        model_outputs = {t.name: t for t in tensors(model.output)}
        assert set(step.input_map) == set(model_inputs), f"{step.model_name} needs every input fed"
        for model_input, ensemble_tensor in step.input_map.items():
            assert ensemble_tensor in available, f"{ensemble_tensor} is not made before {step.model_name}"
            have, want = available[ensemble_tensor], model_inputs[model_input]
            assert (have.datatype, have.dims) == (want.datatype, want.dims), (step.model_name, model_input)
        for model_output, ensemble_tensor in step.output_map.items():
            assert model_output in model_outputs, (step.model_name, model_output)
            made = model_outputs[model_output]
            available[ensemble_tensor] = Tensor(ensemble_tensor, made.datatype, made.dims)
            produced_outputs.add(ensemble_tensor)
    for output in tensors(ensemble.output):
        assert output.name in produced_outputs, f"nothing makes the ensemble's output {output.name}"
        assert available[output.name] == output
    # Bytes in, FaceNet's contract out.
    facenet = contracts()["facenet"]
    assert tensors(ensemble.input) == [Tensor("image_bytes", "TYPE_UINT8", (-1,))]
    assert set(facenet.outputs) <= set(tensors(ensemble.output))


def pipeline_constants() -> dict[str, object]:
    tree = ast.parse(PIPELINE.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return found


def test_the_dali_pipeline_makes_facenets_input(gpu):
    constants = pipeline_constants()
    dali = gpu["facenet_preprocess"]
    facenet_input = contracts()["facenet"].inputs[0]
    # The DALI backend feeds inputs by the external source's name and names outputs in order.
    assert [t.name for t in tensors(dali.input)] == [constants["INPUT_NAME"]]
    assert dali.input[0].allow_ragged_batch, "encoded images differ in length: the batcher must allow it"
    assert tuple(t.name for t in tensors(dali.output)) == constants["OUTPUT_NAMES"]
    first = tensors(dali.output)[0]
    assert (first.datatype, first.dims) == (facenet_input.datatype, facenet_input.dims)
    assert facenet_input.dims == (constants["CHANNELS"], constants["HEIGHT"], constants["WIDTH"])
    # Stretch (both sizes given), pixel / 255 with no mean: FaceNet's normalisation.
    assert constants["MEAN"] == (0.0, 0.0, 0.0) and constants["STD"] == (255.0, 255.0, 255.0)
    source = PIPELINE.read_text(encoding="utf-8")
    assert re.search(r"fn\.resize\(\s*images, resize_x=WIDTH, resize_y=HEIGHT", source)
    assert 'output_layout="CHW"' in source and "types.RGB" in source
    # EXIF orientation applied, and said so to the decoder rather than left to its default.
    assert constants["ADJUST_ORIENTATION"] is True and "adjust_orientation=adjust_orientation" in source
    assert constants["DEVICES"][0] == "mixed", "the served model decodes on the GPU"


def test_the_pipeline_script_runs_without_dali_for_its_help():
    import subprocess

    done = subprocess.run([sys.executable, str(PIPELINE), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "model.dali" in done.stdout


def test_the_gpu_servers_python_packages_are_the_cpu_backends():
    pinned = {p.split("==")[0]: p for p in setup_array("PY_TRITON")}
    dockerfile = (ROOT / "docker" / "triton-server" / "Dockerfile").read_text(encoding="utf-8")
    for package in ("dlib-bin", "face-recognition-models", "numpy"):
        versions = set(re.findall(rf"\b{re.escape(package)}==([\w.]+)", dockerfile))
        assert versions == {pinned[package].split("==")[1]}, package


class FakeTensor:
    def __init__(self, name: str, array: np.ndarray) -> None:
        self.name = name
        self.array = array

    def as_numpy(self) -> np.ndarray:
        return self.array


def fake_pb_utils() -> types.ModuleType:
    """The few parts of Triton's triton_python_backend_utils the models use."""
    module = types.ModuleType("triton_python_backend_utils")

    class InferenceResponse:
        def __init__(self, output_tensors, error=None) -> None:  # noqa: ANN001
            self.output_tensors = output_tensors
            self.error = error

    module.Tensor = FakeTensor
    module.InferenceResponse = InferenceResponse
    module.TritonError = lambda message: message
    module.get_input_tensor_by_name = lambda request, name: request[name]
    return module


def test_gpu_facerec_runs_the_cpu_backends_model(monkeypatch):
    pytest.importorskip("dlib", reason="dlib comes with scripts/setup.sh's Triton packages")
    import importlib.util

    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", fake_pb_utils())
    monkeypatch.setenv("FACESCOPE_CPU_BACKEND", str(ROOT / "backends" / "cpu"))
    monkeypatch.syspath_prepend(str(ROOT / "backends" / "cpu"))
    spec = importlib.util.spec_from_file_location("gpu_facerec", GPU_REPOSITORY / "facerec" / "1" / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.TritonPythonModel()
    model.initialize({})
    chips = np.random.default_rng(5).integers(0, 256, size=(2, 150, 150, 3), dtype=np.uint8)
    [response] = model.execute([{"input_chip": FakeTensor("input_chip", chips)}])
    assert response.error is None
    [embedding] = response.output_tensors
    assert embedding.name == "embedding"
    assert embedding.array.shape == (2, 128) and embedding.array.dtype == np.float32
    assert np.isfinite(embedding.array).all()
    [bad] = model.execute([{"input_chip": FakeTensor("input_chip", chips[:, :10])}])
    assert bad.error, "a wrong chip size is reported, not raised"
