#!/usr/bin/env bash
# Runs FaceScope's whole test suite against real services: Redis Stack, a plain Redis (for the
# error messages) and the Triton CPU backend, all on loopback ports of their own. Installs and
# starts whatever is missing; quick when run again (services stay up: scripts/services.sh stop).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$FS_ROOT"

scripts/setup.sh
scripts/services.sh start redis
scripts/services.sh start redis-plain
scripts/services.sh start triton

export FACESCOPE_TEST_REDIS_URL="$FS_REDIS_URL"
export FACESCOPE_TEST_PLAIN_REDIS_URL="redis://127.0.0.1:$((FS_REDIS_PORT + 1))/0"
export FACESCOPE_TRITON_URL="$FS_TRITON_URL"
export FACESCOPE_REQUIRE_SERVICES=1
export FACESCOPE_BIN="$FS_ROOT/.build/debug/facescope"
export FACESCOPE_PYTHON="$FS_VENV/bin/python"
export SWIFT_BACKTRACE=interactive=no

fs_log "checking formatting (swift format lint)"
swift format lint --strict --recursive Sources Tests Package.swift

fs_log "building"
swift build --build-tests

fs_log "Swift tests (unit, and integration against the real services)"
swift test --skip-build

fs_log "Python tests (redis-om interop, the CLI and the terminal browser end to end, the CPU backend, the deployment files)"
"$FS_VENV/bin/python" -m pytest -q -p no:cacheprovider Tests/Interop Tests/CLI Tests/TUI backends/cpu Tests/Deploy
