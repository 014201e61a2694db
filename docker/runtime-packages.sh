#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries some ELF files load, one a line,
# sorted: what a slim runtime image must apt-get install for them. Run in an image's build stage
# (Debian 12, the same suite as the runtime stage), so the runtime libraries always follow what
# the binaries really link instead of a list kept by hand.
#   docker/runtime-packages.sh [--ignore DIR]... FILE_OR_DIR...
# A directory is searched for ELF files. Libraries under an --ignore DIR travel with the files
# (a wheel's bundled libraries, say) and need no package. Fails, naming them, when a library is
# not found or no package owns it.
set -euo pipefail

ignores=()
targets=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --ignore) [ "$#" -ge 2 ] || { echo "error: --ignore needs a directory" >&2; exit 2; }
      ignores+=("$(realpath -m "$2")"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "error: unknown option: $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ "${#targets[@]}" -gt 0 ] || { echo "error: no files given" >&2; exit 2; }

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

ignored() {
  local path="$1" dir
  for dir in "${ignores[@]+"${ignores[@]}"}"; do
    case "$path" in "$dir"/*) return 0 ;; esac
  done
  return 1
}

files=()
for target in "${targets[@]}"; do
  if [ -d "$target" ]; then
    while IFS= read -r -d '' f; do
      is_elf "$f" && files+=("$f")
    done < <(find "$target" -type f -print0)
  elif [ -f "$target" ]; then
    is_elf "$target" || { echo "error: $target is not an ELF file" >&2; exit 1; }
    files+=("$target")
  else
    echo "error: $target does not exist" >&2
    exit 1
  fi
done

libs=()
problems=()
for f in "${files[@]+"${files[@]}"}"; do
  # Statically linked files have no dependencies: ldd says so and fails.
  if ! out="$(ldd "$f" 2>&1)"; then
    case "$out" in *"not a dynamic executable"*|*"statically linked"*) continue ;; esac
    problems+=("$f: ldd failed: $out")
    continue
  fi
  while IFS= read -r line; do
    case "$line" in
      *"=> not found"*) problems+=("$f: $(echo "${line%% =>*}" | tr -d '[:space:]') not found") ;;
      *"=> /"*) lib="${line#*=> }"; libs+=("${lib%% (*}") ;;
      *ld-linux*) libs+=("$(echo "$line" | awk '{print $1}')") ;;
    esac
  done <<<"$out"
done

# Debian 12 registers some libraries under /lib, others under /usr/lib (merged /usr), and ldd
# prints either form, or a symlink: every form is asked for, in one dpkg-query call.
declare -A wanted=() owners=() packages=()
for lib in "${libs[@]+"${libs[@]}"}"; do
  real="$(realpath -m "$lib")"
  ignored "$real" && continue
  wanted["$lib"]="$lib /usr$lib ${lib#/usr} $real /usr$real ${real#/usr}"
done
if [ "${#wanted[@]}" -gt 0 ]; then
  # shellcheck disable=SC2046  # the candidate paths are split on purpose
  while IFS= read -r line; do
    pkg="${line%%: /*}"; path="/${line#*: /}"
    owners["$path"]="${pkg%%:*}"
  done < <(dpkg-query -S $(printf '%s\n' "${wanted[@]}" | tr ' ' '\n' | sort -u) 2>/dev/null | grep -v '^diversion' || true)
fi
for lib in "${!wanted[@]}"; do
  found=""
  for candidate in ${wanted[$lib]}; do
    if [ -n "${owners[$candidate]:-}" ]; then found="${owners[$candidate]}"; break; fi
  done
  if [ -n "$found" ]; then packages["${found%%,*}"]=1; else problems+=("$lib belongs to no package"); fi
done

if [ "${#problems[@]}" -gt 0 ]; then
  printf 'error: %s\n' "${problems[@]}" | sort -u >&2
  exit 1
fi
[ "${#packages[@]}" -gt 0 ] || { echo "error: no shared libraries found in ${targets[*]}" >&2; exit 1; }
printf '%s\n' "${!packages[@]}" | sort
