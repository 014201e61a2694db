#!/usr/bin/env bash
# GPU-only check, for an NVIDIA machine with Docker, docker compose v2 and the NVIDIA Container
# Toolkit; not part of CI (CI has no GPU). A few minutes once the images are built.
#   docker/gpu-check.sh [--down] [IMAGE...]
# 1. builds the GPU images and the CPU backend's image (whose Python has numpy, Pillow and
#    tritonclient), runs triton-model-builder and starts triton-server until it is healthy;
# 2. compares the GPU server's preprocessing with the client's (docker/gpu-check/compare.py):
#    DALI's decoded, stretched tensor against the client's for the same files (EXIF orientation
#    included), and FaceNet's grids on the ensemble path against the raw-tensor path;
# 3. runs `facescope detect --dry-run` on samples/ against the GPU server, end to end.
# IMAGE paths are relative to the repository. --down stops the stack afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

DOWN=0
images=()
for arg in "$@"; do
  case "$arg" in
    --down) DOWN=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) images+=("/src/$arg") ;;
  esac
done

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed"
docker compose version >/dev/null 2>&1 || die "docker compose v2 is needed"
if ! { command -v nvidia-smi >/dev/null && nvidia-smi -L >&2; }; then die "no NVIDIA GPU here (nvidia-smi)"; fi
docker info --format '{{json .Runtimes}}' | grep -q nvidia \
  || log "warning: docker lists no nvidia runtime; GPU reservations need the NVIDIA Container Toolkit"

gpu=(docker compose --profile gpu)
[ "$DOWN" = 0 ] || trap '"${gpu[@]}" down' EXIT

log "building the images"
"${gpu[@]}" build triton-model-builder triton-server triton-client
docker compose --profile cpu build triton-cpu

log "building the model repository (skips what is up to date)"
"${gpu[@]}" run --rm triton-model-builder

log "starting triton-server"
"${gpu[@]}" up -d --wait triton-server

log "comparing the GPU preprocessing with the client's"
# The CPU backend's image only lends its Python: no server starts (--entrypoint, --no-deps).
status=0
docker compose --profile cpu run --rm --no-deps -v "$PWD:/src:ro" \
  --entrypoint /opt/facescope/.services/venv/bin/python triton-cpu \
  /src/docker/gpu-check/compare.py --url triton-server:8000 "${images[@]+"${images[@]}"}" || status=1

log "detecting faces in samples/ through the GPU server (nothing stored)"
"${gpu[@]}" run --rm --no-deps -v "$PWD/samples:/images:ro" triton-client \
  facescope detect /images --dry-run --json --verbose || status=1

if [ "$status" = 0 ]; then log "GPU check passed"; else log "GPU check FAILED"; fi
exit "$status"
