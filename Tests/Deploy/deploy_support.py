"""Helpers of the deployment tests: the repository's files read the way their real readers read them.

- .env: strict KEY=VALUE lines (the subset docker compose and facescope's DotEnv read alike).
- docker-compose.yml: YAML, then compose's ${VAR} interpolation from .env.
- config.pbtxt: protobuf text format parsed with Triton's own ModelConfig message (from
  tritonclient), so a misspelt field fails as it would in tritonserver.
- Settings and the model contracts: read from the Swift sources, the client's truth.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / ".env"
COMPOSE_FILE = ROOT / "docker-compose.yml"
GPU_REPOSITORY = ROOT / "docker" / "triton-server" / "model_repository"
CPU_REPOSITORY = ROOT / "backends" / "cpu" / "model_repository"
SETTINGS_SWIFT = ROOT / "Sources" / "FaceScopeCore" / "Settings.swift"
CONTRACTS_SWIFT = ROOT / "Sources" / "FaceScopeTriton" / "ModelContract.swift"
DOCKERFILES = sorted((ROOT / "docker").glob("*/Dockerfile"))
# Variables docker-compose.yml may use without .env defining them: secrets given at run time.
RUNTIME_ONLY = {"NGC_API_KEY"}


def tool(name: str) -> str:
    """A command-line tool: the one installed beside this Python (scripts/setup.sh's venv), else PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} is not installed: run scripts/setup.sh")
    return found


def require_services() -> bool:
    """Whether missing prerequisites fail instead of skip (scripts/test.sh sets this)."""
    return os.environ.get("FACESCOPE_REQUIRE_SERVICES") == "1"


# ---- .env


@dataclass
class EnvEntry:
    key: str
    value: str
    line: int
    comment: list[str]  # the comment lines right above it


ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=([^\s'\"#]*)$")


def read_env(path: Path = ENV_FILE) -> list[EnvEntry]:
    """The .env entries. Only comments, blank lines and KEY=VALUE with a plain value are allowed:
    quotes, spaces, `export` and trailing comments are read differently by different readers."""
    entries: list[EnvEntry] = []
    comment: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip()
        if not line:
            comment = []
        elif line.startswith("#"):
            comment.append(line)
        else:
            match = ENV_LINE.match(line)
            if not match:
                raise AssertionError(f".env line {number} is not a plain KEY=VALUE: {raw!r}")
            entries.append(EnvEntry(match.group(1), match.group(2), number, comment))
            # Consecutive variables may share one comment (e.g. the three Triton ports).
    return entries


def env_values(path: Path = ENV_FILE) -> dict[str, str]:
    """The .env as a dict."""
    return {e.key: e.value for e in read_env(path)}


# ---- Swift sources


def swift_string(literal: str) -> str:
    """The value of a simple Swift string literal."""
    return bytes(literal[1:-1], "utf-8").decode("unicode_escape")


def settings_specs() -> dict[str, str]:
    """Every setting's variable and its default, from Settings.specs."""
    text = SETTINGS_SWIFT.read_text(encoding="utf-8")
    specs: dict[str, str] = {}
    pattern = re.compile(
        r'\.\w+:\s*SettingSpec\(\s*variable:\s*"([A-Z0-9_]+)",\s*defaultValue:\s*("(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*)'
    )
    for variable, default in pattern.findall(text):
        if default.startswith('"'):
            specs[variable] = swift_string(default)
        else:
            specs[variable] = swift_constant(default)
    if len(specs) != text.count("SettingSpec("):
        raise AssertionError("Settings.swift has SettingSpecs this test cannot read; update settings_specs()")
    return specs


def swift_constant(reference: str) -> str:
    """A `Type.name` string constant, looked up in the sources (`static let name = "..."`)."""
    name = reference.split(".")[-1]
    for source in (ROOT / "Sources").rglob("*.swift"):
        match = re.search(rf'static let {re.escape(name)}\s*=\s*("(?:[^"\\]|\\.)*")', source.read_text(encoding="utf-8"))
        if match:
            return swift_string(match.group(1))
    raise AssertionError(f"cannot find the Swift constant {reference}")


@dataclass(frozen=True)
class Tensor:
    name: str
    datatype: str  # Triton's config spelling: TYPE_FP32
    dims: tuple[int, ...]
    # Other datatypes the client accepts for an input (it converts): TYPE_FP16, ...
    alternatives: tuple[str, ...] = field(default=(), compare=False)

    def accepts(self, served: "Tensor") -> bool:
        return (served.name == self.name and served.dims == self.dims
                and served.datatype in (self.datatype, *self.alternatives))


@dataclass
class Contract:
    inputs: list[Tensor]
    outputs: list[Tensor]


# The contracts in ModelContract.swift and the model each one describes (its default name).
CONTRACT_MODELS = {
    "faceNet": "facenet",
    "fpeNet": "fpenet",
    "faceRecognition": "facerec",
    "faceNetEncoded": "facenet_encoded",
}


def contracts() -> dict[str, Contract]:
    """The client's model contracts by model name."""
    text = CONTRACTS_SWIFT.read_text(encoding="utf-8")
    # Tensor names are constants of `enum TensorName` (or literals).
    names_block = text[text.index("enum TensorName"):text.index("\n}\n", text.index("enum TensorName"))]
    names = dict(re.findall(r'static let (\w+) = "([^"]+)"', names_block))
    tensor = re.compile(
        r'TensorSpec\(name:\s*(?:"[^"]+"|TensorName\.\w+),\s*datatype:\s*\.(\w+),\s*dims:\s*\[([^\]]*)\]'
        r'(?:,\s*alternatives:\s*\[([^\]]*)\])?\)')
    tensor_name = re.compile(r'TensorSpec\(name:\s*(?:"([^"]+)"|TensorName\.(\w+))')
    starts = [(m.group(1), m.start()) for m in re.finditer(r"static let (\w+) = ModelContract\(", text)]
    found: dict[str, Contract] = {}
    for index, (name, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else text.index("public func", start)
        block = text[start:end]
        split = block.index("outputs:")

        def specs(part: str) -> list[Tensor]:
            tensor_names = [literal or names[constant] for literal, constant in tensor_name.findall(part)]
            return [
                Tensor(n, "TYPE_" + t.upper(), tuple(int(d) for d in dims.split(",") if d.strip()),
                       tuple("TYPE_" + a.strip().lstrip(".").upper() for a in alternatives.split(",") if a.strip()))
                for n, (t, dims, alternatives) in zip(tensor_names, tensor.findall(part))
            ]

        if name not in CONTRACT_MODELS:
            raise AssertionError(
                f"ModelContract.{name} is new: add the model it describes to CONTRACT_MODELS in {__file__}"
            )
        found[CONTRACT_MODELS[name]] = Contract(specs(block[:split]), specs(block[split:]))
    if not found:
        raise AssertionError("no contracts found in ModelContract.swift")
    return found


# ---- Triton model configs


def read_config(path: Path) -> Any:  # noqa: ANN401 - a ModelConfig protobuf message
    """A config.pbtxt parsed as Triton parses it."""
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    return text_format.Parse(path.read_text(encoding="utf-8"), model_config_pb2.ModelConfig())


def datatype_name(value: int) -> str:
    """TYPE_FP32 for the enum value."""
    from tritonclient.grpc import model_config_pb2

    return model_config_pb2.DataType.Name(value)


def tensors(items: Any) -> list[Tensor]:  # noqa: ANN401 - repeated ModelInput/ModelOutput
    """The inputs or outputs of a config as Tensors."""
    return [Tensor(t.name, datatype_name(t.data_type), tuple(t.dims)) for t in items]


def contract_problems(config: Any, contract: Contract) -> list[str]:  # noqa: ANN401
    """What keeps a model config from meeting a client contract (the client's own rules: every
    input it sends, no input it does not send, every output it reads; the same datatypes and
    per-item dims)."""
    problems = []
    inputs = {t.name: t for t in tensors(config.input)}
    outputs = {t.name: t for t in tensors(config.output)}
    for kind, wanted, served in (("input", contract.inputs, inputs), ("output", contract.outputs, outputs)):
        for spec in wanted:
            actual = served.get(spec.name)
            if actual is None:
                problems.append(f"{config.name}: no {kind} {spec.name!r}")
            elif not spec.accepts(actual):
                problems.append(f"{config.name}: {kind} {spec.name!r} is {actual}, the client expects {spec}")
    extra = set(inputs) - {t.name for t in contract.inputs}
    if extra:
        problems.append(f"{config.name}: inputs the client does not send: {sorted(extra)}")
    return problems


def parameters(config: Any) -> dict[str, str]:  # noqa: ANN401
    """A config's string parameters."""
    return {key: value.string_value for key, value in config.parameters.items()}


# ---- docker compose


def load_yaml(text: str) -> Any:  # noqa: ANN401
    """YAML as compose reads it (1.2, merge keys)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class Undefined(AssertionError):
    """A ${VAR} without a value or a default."""


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error}, ${VAR:+other}, ${VAR+other}. A variable without value or default is an error here
    (compose only warns and uses the empty string)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        if op is None:
            if value is None:
                raise Undefined(f"${{{name}}} has no value in .env")
            return value
        if op == ":-":
            return value if value else interpolate(arg, env)
        if op == "-":
            return value if value is not None else interpolate(arg, env)
        if op == ":+":
            return interpolate(arg, env) if value else ""
        if op == "+":
            return interpolate(arg, env) if value is not None else ""
        if value is None or (op == ":?" and not value):
            raise Undefined(f"${{{name}}}: {arg}")
        return value

    return INTERPOLATION.sub(substitute, text)


def interpolated(node: Any, env: dict[str, str]) -> Any:  # noqa: ANN401
    """Every string value of a loaded YAML document interpolated (keys are left as they are)."""
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, env) for value in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


def compose_variables(text: str) -> dict[str, bool]:
    """The variables a compose file uses, each with whether it has a default."""
    found: dict[str, bool] = {}
    for match in INTERPOLATION.finditer(text):
        name = match.group("braced") or match.group("plain")
        if name:
            found[name] = found.get(name, False) or match.group("op") is not None
    return found


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as compose sees it with .env."""
    return interpolated(load_yaml(COMPOSE_FILE.read_text(encoding="utf-8")), env_values() if env is None else env)


def compose_schema() -> dict[str, Any]:
    """The compose specification's JSON schema, as vendored by check-jsonschema."""
    import json
    from importlib import resources

    return json.loads(
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text("utf-8")
    )


def schema_errors(document: Any) -> list[str]:  # noqa: ANN401
    """The compose document's violations of the compose specification."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(compose_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# ---- Dockerfiles


@dataclass
class Instruction:
    keyword: str
    arguments: str
    line: int
    ignores: set[str]  # hadolint ignore= rules right above


def dockerfile(path: Path) -> list[Instruction]:
    """A Dockerfile's instructions, continuation lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    start = 0
    ignores: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            match = re.match(r"#\s*hadolint ignore=([\w,]+)", line)
            if match:
                ignores |= set(match.group(1).split(","))
            continue
        if line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = pending + line
        pending = ""
        keyword, _, arguments = text.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start, ignores))
        ignores = set()
    return instructions


def arg_defaults(path: Path) -> dict[str, str]:
    """The ARG defaults of a Dockerfile."""
    found = {}
    for instruction in dockerfile(path):
        if instruction.keyword == "ARG" and "=" in instruction.arguments:
            key, _, value = instruction.arguments.partition("=")
            found[key.strip()] = value.strip()
    return found


def setup_array(name: str) -> list[str]:
    """A bash array of scripts/setup.sh (APT_PACKAGES, PY_TRITON, ...), comment lines dropped."""
    lines = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"{name}=("):
            words: list[str] = []
            rest = line[len(name) + 2 :]
            for part in [rest, *lines[index + 1 :]]:
                if part.strip().startswith("#"):
                    continue
                closed = ")" in part
                words += [w.strip("'\"") for w in part.split(")")[0].split()]
                if closed:
                    return words
    raise AssertionError(f"scripts/setup.sh has no {name}")
