#!/usr/bin/env bash
# Synthetic-library benchmark (not CI): scripts/bench_library.sh N
# N photos of two faces each with known identities, timed through a release build against the
# Redis Stack at 127.0.0.1:16379 under a key prefix of its own (removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:?usage: scripts/bench_library.sh N}"
swift build -c release --scratch-path .build-release --product facescope >&2
PY="${FACESCOPE_PYTHON:-.services/venv/bin/python}"
exec "$PY" scripts/bench_library.py "$N" --facescope .build-release/release/facescope "${@:2}"
