"""Runs FaceScope's CPU Triton backend.

The real tritonserver bundled in nvidia-pytriton serves the python-backend models in
model_repository/ (facenet, fpenet, facerec and facenet_encoded, computed by dlib):

    python serve.py [--address 127.0.0.1] [--http-port 8000] [--grpc-port 8001] [--metrics-port 8002]

Runs in the foreground until SIGTERM or SIGINT, then shuts tritonserver down (it finishes the
requests in flight) and exits. A start where a model fails to load is retried.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
MODEL_REPOSITORY = HERE / "model_repository"
MODELS = ("facenet", "fpenet", "facerec", "facenet_encoded")
READY_TIMEOUT_S = 90.0
EXIT_TIMEOUT_S = 20
POLL_S = 0.2
PR_SET_PDEATHSIG = 1


def log(message: str) -> None:
    """Prints a line of this launcher's own log to stderr."""
    print(f"serve.py: {message}", file=sys.stderr, flush=True)


def pytriton_dist() -> tuple[Path, Path]:
    """The tritonserver distribution inside the nvidia-pytriton wheel, and its bundled libraries."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or spec.origin is None:
        raise SystemExit("nvidia-pytriton is not installed: run scripts/setup.sh")
    package = Path(spec.origin).parent
    return package / "tritonserver", package.parent / "nvidia_pytriton.libs"


def prepare_backends(server_dir: Path, workdir: Path) -> Path:
    """A backend folder whose python backend has the stub built for this interpreter's version."""
    python = workdir / "backends" / "python"
    python.mkdir(parents=True)
    for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
        (python / name).symlink_to(server_dir / "backends" / "python" / name)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = server_dir / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.exists():
        raise SystemExit(f"nvidia-pytriton has no python backend stub for Python {version}")
    shutil.copy2(stub, python / "triton_python_backend_stub")
    return workdir / "backends"


def server_env(libs_dir: Path) -> dict[str, str]:
    """The environment of tritonserver, which its python backend stubs inherit.

    The stub links libpython by name: this interpreter's own comes first. The stub's embedded
    Python finds its prefix by looking up `python3` on PATH, so this venv's bin comes first too.
    """
    env = dict(os.environ)
    libraries = [sysconfig.get_config_var("LIBDIR"), str(libs_dir), env.get("LD_LIBRARY_PATH", "")]
    env["LD_LIBRARY_PATH"] = ":".join(path for path in libraries if path)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def server_command(server_dir: Path, backends: Path, args: argparse.Namespace) -> list[str]:
    """The tritonserver command line. Strict model configs; every API open to loopback clients."""
    options = {
        "model-repository": MODEL_REPOSITORY,
        "backend-directory": backends,
        "disable-auto-complete-config": None,
        "model-control-mode": "none",
        "strict-readiness": "true",
        "exit-on-error": "true",
        "exit-timeout-secs": EXIT_TIMEOUT_S // 2,
        "http-address": args.address,
        "http-port": args.http_port,
        "grpc-address": args.address,
        "grpc-port": args.grpc_port,
        "metrics-address": args.address,
        "metrics-port": args.metrics_port,
        "log-verbose": args.log_verbose,
    }
    command = [str(server_dir / "bin" / "tritonserver")]
    for key, value in options.items():
        command.append(f"--{key}" if value is None else f"--{key}={value}")
    return command


def die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM if this launcher dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def models_ready(address: str, http_port: int) -> bool:
    """Whether every model answers ready on the HTTP endpoint bound to address."""
    host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    if ":" in host:
        host = f"[{host}]"
    for model in MODELS:
        try:
            with urllib.request.urlopen(f"http://{host}:{http_port}/v2/models/{model}/ready", timeout=2) as reply:
                if reply.status != 200:
                    return False
        except (urllib.error.URLError, OSError):
            return False
    return True


class Launcher:
    """Starts tritonserver, retries a failed start, and stops it on SIGTERM or SIGINT."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = False

    def handle_signal(self, signum: int, _frame: FrameType | None) -> None:
        """Flags the shutdown; the main loop stops tritonserver within POLL_S."""
        log(f"received {signal.Signals(signum).name}, shutting down")
        self._stopping = True

    def run(self) -> int:
        """Serves until stopped; returns the exit status."""
        server_dir, libs_dir = pytriton_dist()
        with tempfile.TemporaryDirectory(prefix="facescope-triton-") as workdir:
            command = server_command(server_dir, prepare_backends(server_dir, Path(workdir)), self._args)
            env = server_env(libs_dir)
            for attempt in range(1, self._args.attempts + 1):
                if self._stopping:
                    return 0
                started = time.monotonic()
                log(f"starting tritonserver (attempt {attempt}/{self._args.attempts})")
                self._process = subprocess.Popen(command, env=env, preexec_fn=die_with_parent)
                if self._wait_ready():
                    log(f"all models ready after {time.monotonic() - started:.1f} s")
                    return self._serve()
                self._stop_process()
                if self._stopping:
                    return 0
                log("tritonserver did not get ready")
        return 1

    def _wait_ready(self) -> bool:
        """Waits until every model is ready; False if tritonserver exits or takes too long."""
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self._stopping:
            if self._process.poll() is not None:
                return False
            if models_ready(self._args.address, self._args.http_port):
                return True
            time.sleep(POLL_S)
        return False

    def _serve(self) -> int:
        """Waits until a signal asks for the shutdown, or tritonserver exits by itself."""
        assert self._process is not None
        while not self._stopping:
            try:
                status = self._process.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                continue
            log(f"tritonserver exited by itself with status {status}")
            return status or 1
        self._stop_process()
        log("tritonserver stopped")
        return 0

    def _stop_process(self) -> None:
        """Stops tritonserver: SIGTERM, then SIGKILL if it has not exited in time."""
        assert self._process is not None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default="127.0.0.1", help="address to bind all endpoints to")
    parser.add_argument("--http-port", type=int, default=8000)
    parser.add_argument("--grpc-port", type=int, default=8001)
    parser.add_argument("--metrics-port", type=int, default=8002)
    parser.add_argument("--attempts", type=int, default=3, help="starts to try before giving up")
    parser.add_argument("--log-verbose", type=int, default=0, help="tritonserver's verbose log level")
    return parser.parse_args(argv)


def main() -> int:
    """Entry point."""
    launcher = Launcher(parse_args())
    signal.signal(signal.SIGTERM, launcher.handle_signal)
    signal.signal(signal.SIGINT, launcher.handle_signal)
    return launcher.run()


if __name__ == "__main__":
    sys.exit(main())
