#!/usr/bin/env bash
# Assembles FaceScope's GPU model repository (compose service triton-model-builder):
#   build-models [--force] [--check]
# 1. copies the configs and python models (docker/triton-server/model_repository) into the
#    repository, with the max batch sizes of this run;
# 2. takes NVIDIA's TAO models from the NGC folder, or downloads them there (the NGC CLI with
#    NGC_API_KEY when both are there, else NGC's public download of the same files);
# 3. builds the FaceNet and FPENet TensorRT engines with tao-converter, on this GPU;
# 4. serializes the DALI pipeline of facenet_preprocess.
# Idempotent: an engine (or the DALI model) is rebuilt only when something it is made from
# changed: the model files, the converter's options, the converter, TensorRT, the GPU. Each
# records that in a .stamp file beside it. --force rebuilds anyway; --check changes nothing and
# exits 1 when something would be built.
set -euo pipefail

REPOSITORY="${MODEL_REPOSITORY:-/models}"
TEMPLATE="${MODEL_TEMPLATE:-/opt/facescope/model_repository}"
PIPELINES="${PIPELINES_DIR:-/opt/facescope/pipelines}"
NGC_DIR="${NGC_MODELS_DIR:-/ngc}"
FACENET_NGC_MODEL="${FACENET_NGC_MODEL:-nvidia/tao/facenet:pruned_quantized_v2.0.1}"
FPENET_NGC_MODEL="${FPENET_NGC_MODEL:-nvidia/tao/fpenet:deployable_v3.0}"
FACENET_MAX_BATCH="${FACENET_MAX_BATCH:-16}"
FPENET_MAX_BATCH="${FPENET_MAX_BATCH:-16}"
# The key NVIDIA publishes for decrypting these TAO models (model cards): not a secret.
TAO_MODEL_KEY="${TAO_MODEL_KEY:-nvidia_tlt}"
PYTHON="${PYTHON:-python3}"
NGC_API="https://api.ngc.nvidia.com/v2/models"

FORCE=0
CHECK=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --check) CHECK=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-models: unknown option: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "build-models: $*" >&2; }
die() { log "error: $*"; exit 1; }

for n in "$FACENET_MAX_BATCH" "$FPENET_MAX_BATCH"; do
  case "$n" in ''|*[!0-9]*|0) die "max batch sizes must be positive integers, not '$n'" ;; esac
done
[ -d "$TEMPLATE" ] || die "no model repository template at $TEMPLATE"
mkdir -p "$REPOSITORY" "$NGC_DIR"

STALE=()

# 1. Configs and python models, every run (cheap); max_batch_size follows this run's settings.
max_batch_for() {
  case "$1" in
    fpenet) echo "$FPENET_MAX_BATCH" ;;
    facenet|facenet_preprocess|facenet_encoded) echo "$FACENET_MAX_BATCH" ;;
    *) echo "" ;;
  esac
}
sync_template() {
  local dir name batch
  for dir in "$TEMPLATE"/*/; do
    name="$(basename "$dir")"
    mkdir -p "$REPOSITORY/$name/1"
    cp -R "$dir." "$REPOSITORY/$name/"
    batch="$(max_batch_for "$name")"
    if [ -n "$batch" ]; then
      sed -i -E "s/^max_batch_size: *[0-9]+/max_batch_size: $batch/" "$REPOSITORY/$name/config.pbtxt"
    fi
  done
}

# 2. The NGC model files: <NGC_DIR>/<name>_v<version>/, the folder `ngc registry model
# download-version --dest <NGC_DIR>` makes.
ngc_key() {
  if [ -n "${NGC_API_KEY:-}" ]; then printf '%s' "$NGC_API_KEY"
  elif [ -r /run/secrets/ngc_api_key ]; then tr -d '[:space:]' </run/secrets/ngc_api_key
  fi
}
fetch_model() {  # REF VARIABLE: sets VARIABLE to the model's folder
  local ref="$1" path version name dir key
  path="${ref%%:*}"; version="${ref#*:}"; name="${path##*/}"
  [ "$path" != "$ref" ] && [ -n "$version" ] || die "an NGC model is org/team/name:version, not '$ref'"
  dir="$NGC_DIR/${name}_v${version}"
  printf -v "$2" '%s' "$dir"
  if [ -n "$(find "$dir" -name '*.etlt' -print -quit 2>/dev/null)" ]; then
    log "$ref: found in $dir"
    return 0
  fi
  if [ "$CHECK" = 1 ]; then
    log "$ref: not downloaded yet ($dir)"
    STALE+=("$name-download")
    return 0
  fi
  key="$(ngc_key)"
  if [ -n "$key" ] && command -v ngc >/dev/null; then
    log "$ref: downloading with the NGC CLI into $NGC_DIR"
    NGC_CLI_API_KEY="$key" NGC_CLI_ORG="${path%%/*}" NGC_CLI_FORMAT_TYPE=ascii \
      ngc registry model download-version "$ref" --dest "$NGC_DIR" >&2
  else
    log "$ref: downloading from NGC's public catalog into $dir"
    local zip="$NGC_DIR/.${name}_v${version}.zip"
    curl -fsSL --retry 3 -o "$zip" "$NGC_API/$path/versions/$version/zip"
    mkdir -p "$dir"
    unzip -q -o "$zip" -d "$dir"
    rm -f "$zip"
  fi
  [ -n "$(find "$dir" -name '*.etlt' -print -quit 2>/dev/null)" ] || die "$ref: no .etlt file in $dir after the download"
}
one_file() {  # the single file matching a pattern in a folder
  local dir="$1" pattern="$2" found
  found="$(find "$dir" -name "$pattern" -type f | sort)"
  [ -n "$found" ] || die "no $pattern in $dir"
  [ "$(printf '%s\n' "$found" | wc -l)" = 1 ] || die "several $pattern in $dir: $(echo "$found" | tr '\n' ' ')"
  echo "$found"
}

# What an engine depends on besides its own inputs: the converter, TensorRT and the GPU.
toolchain() {
  local trt gpu converter
  converter="$(command -v tao-converter || true)"
  [ -n "$converter" ] || die "tao-converter is not on PATH"
  trt="$(dpkg-query -W -f='${Version}' libnvinfer8 2>/dev/null || true)"
  [ -n "$trt" ] || trt="${TRT_VERSION:-${TENSORRT_VERSION:-unknown}}"
  gpu="$(nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader 2>/dev/null | sort -u | tr '\n' ';' || true)"
  [ -n "$gpu" ] || die "no GPU visible (nvidia-smi): TensorRT engines are built on the GPU that runs them"
  printf 'tao-converter %s\ntensorrt %s\ngpu %s\n' "$(sha256sum "$converter" | cut -c1-16)" "$trt" "$gpu"
}

# Runs a build command unless the output's stamp says it is up to date.
#   up_to_date_or_build NAME OUTPUT FINGERPRINT COMMAND... ; the command writes to $TMP_OUTPUT
up_to_date_or_build() {
  local name="$1" output="$2" fingerprint="$3"; shift 3
  local stamp="$output.stamp"
  if [ "$FORCE" = 0 ] && [ -s "$output" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
    log "$name: up to date ($output)"
    return 0
  fi
  if [ "$CHECK" = 1 ]; then
    log "$name: would be built ($output)"
    STALE+=("$name")
    return 0
  fi
  log "$name: building $output"
  TMP_OUTPUT="$output.partial"
  rm -f "$TMP_OUTPUT"
  "$@" >&2 || die "$name: the build failed"
  [ -s "$TMP_OUTPUT" ] || die "$name: the build wrote nothing"
  mv -f "$TMP_OUTPUT" "$output"
  printf '%s\n' "$fingerprint" >"$stamp"
}

build_engine() {  # NAME ETLT CALIBRATION CONVERTER-OPTIONS...
  local name="$1" etlt="$2" calibration="$3"; shift 3
  local fingerprint
  fingerprint="$(printf 'model %s\ncalibration %s\noptions %s\n%s' \
    "$(sha256sum "$etlt" | cut -d' ' -f1)" "$(sha256sum "$calibration" | cut -d' ' -f1)" "$*" "$TOOLCHAIN")"
  # shellcheck disable=SC2016  # expanded by the inner shell
  up_to_date_or_build "$name" "$REPOSITORY/$name/1/model.plan" "$fingerprint" \
    bash -c 'tao-converter "$@" -e "$TMP_OUTPUT" "$ETLT"' tao-converter "$@"
}

sync_template
log "model repository $REPOSITORY: configs copied (max batch: facenet $FACENET_MAX_BATCH, fpenet $FPENET_MAX_BATCH)"
mkdir -p "$REPOSITORY/facenet_encoded/1" "$REPOSITORY/facenet_preprocess/1"

facenet_dir=""
fpenet_dir=""
fetch_model "$FACENET_NGC_MODEL" facenet_dir
fetch_model "$FPENET_NGC_MODEL" fpenet_dir
TOOLCHAIN="$(toolchain)"
export TMP_OUTPUT ETLT

# 3. The engines. FaceNet's engine has an implicit batch up to its max; FPENet's an optimisation
# profile from 1 to its max. The converter's -b is the INT8 calibration batch.
if [ -n "$(find "$facenet_dir" -name '*.etlt' -print -quit 2>/dev/null)" ]; then
  ETLT="$(one_file "$facenet_dir" '*.etlt')"
  calibration="$(one_file "$facenet_dir" '*calibration*')"
  build_engine facenet "$ETLT" "$calibration" \
    -k "$TAO_MODEL_KEY" -t int8 -c "$calibration" -b "$FACENET_MAX_BATCH" -m "$FACENET_MAX_BATCH" \
    -d 3,416,736 -o output_cov/Sigmoid,output_bbox/BiasAdd
fi
if [ -n "$(find "$fpenet_dir" -name '*.etlt' -print -quit 2>/dev/null)" ]; then
  ETLT="$(one_file "$fpenet_dir" '*.etlt')"
  calibration="$(one_file "$fpenet_dir" '*calibration*')"
  opt=$(( FPENET_MAX_BATCH > 1 ? FPENET_MAX_BATCH / 2 : 1 ))
  build_engine fpenet "$ETLT" "$calibration" \
    -k "$TAO_MODEL_KEY" -t int8 -c "$calibration" -b "$FPENET_MAX_BATCH" \
    -p "input_face_images,1x1x80x80,${opt}x1x80x80,${FPENET_MAX_BATCH}x1x80x80"
fi

# 4. The DALI pipeline, serialized with the DALI this image pins (the server's release).
pipeline="$PIPELINES/facenet_preprocess.py"
[ -f "$pipeline" ] || die "no DALI pipeline at $pipeline"
dali_version="$("$PYTHON" -c 'import nvidia.dali as d; print(d.__version__)' 2>/dev/null || true)"
[ -n "$dali_version" ] || die "nvidia-dali is not installed for $PYTHON"
# shellcheck disable=SC2016  # expanded by the inner shell
up_to_date_or_build facenet_preprocess "$REPOSITORY/facenet_preprocess/1/model.dali" \
  "$(printf 'pipeline %s\nbatch %s\ndali %s\n' "$(sha256sum "$pipeline" | cut -d' ' -f1)" "$FACENET_MAX_BATCH" "$dali_version")" \
  bash -c '"$0" "$1" "$TMP_OUTPUT" --batch "$2"' "$PYTHON" "$pipeline" "$FACENET_MAX_BATCH"

if [ "$CHECK" = 1 ] && [ "${#STALE[@]}" -gt 0 ]; then
  log "not up to date: ${STALE[*]}"
  exit 1
fi
log "done: $(cd "$REPOSITORY" && find . -name config.pbtxt | sed 's|^\./||; s|/config.pbtxt||' | sort | tr '\n' ' ')"
