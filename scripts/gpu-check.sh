#!/usr/bin/env bash
# Checks IlgpuNorm's CUDA path on a GPU machine that has no .NET SDK. See docs/gpu.md.
#
#   scripts/gpu-check.sh publish [OUT_DIR]   on a machine with the .NET SDK, in the repository: publishes the
#                                            ilgpunorm CLI self-contained for linux-x64 as one compressed file
#                                            (about 40 MB) into OUT_DIR (default .gpu-check/ at the repository
#                                            root), with this script and scripts/torch_rmsnorm_bench.py beside it
#   gpu-check.sh run [DIR]                   on the GPU machine, from the published folder: devices, verify and
#                                            demo on CUDA, demo on the host, PTX for sm_90, bench (once the CLI
#                                            has it); nvidia-smi, ptxas and the PyTorch comparison when present; all of it
#                                            also goes to DIR/gpu-check.log. DIR defaults to this script's folder
#                                            when ilgpunorm is there, else .gpu-check/ at the repository root.
#
# `run` exits 1 when any ilgpunorm step fails (verify included), 0 otherwise; nvidia-smi, ptxas and PyTorch
# are informational. It needs bash and coreutils only.
#
# Environment:
#   GPU_CHECK_STEP_TIMEOUT   seconds allowed to each step of `run` (default 300; 0 = no limit)
#   GPU_CHECK_SM             CUDA architecture for the PTX dump (default 90)
#   GPU_CHECK_BENCH_ARGS     arguments after `ilgpunorm bench` (default: cuda, f32/f16/bf16, the issue-4 shapes, JSON and PNG)
#   GPU_CHECK_TORCH_ARGS     extra arguments for torch_rmsnorm_bench.py
#   DOTNET                   the dotnet executable for `publish` (default: dotnet on PATH)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BINARY=ilgpunorm
TORCH_SCRIPT=torch_rmsnorm_bench.py

say() { echo "gpu-check: $*" >&2; }
die() { say "error: $*"; exit 2; }

usage() {
  cat <<'EOF'
usage: gpu-check.sh publish [OUT_DIR]   publish the self-contained CLI (needs the .NET SDK and the repository)
       gpu-check.sh run [DIR]           run the checks from a published folder (needs an NVIDIA GPU and driver)
EOF
}

# Seconds since the epoch with microseconds where bash has them (bash 5), else whole seconds.
now() { echo "${EPOCHREALTIME:-$(date +%s)}"; }

# Elapsed seconds between two now() values, with one decimal, in bash arithmetic only. (EPOCHREALTIME has
# six decimals, after the locale's decimal point.)
elapsed() {
  local start=${1/[.,]/} end=${2/[.,]/}
  if [[ $1 == *[.,]* && $2 == *[.,]* ]]; then
    local tenths=$(((end - start) / 100000))
    echo "$((tenths / 10)).$((tenths % 10))"
  else
    echo "$((end - start))"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# publish

publish() {
  local repo project out dotnet stage
  repo=$(cd "$SCRIPT_DIR/.." && pwd -P)
  project=$repo/src/IlgpuNorm.Cli/IlgpuNorm.Cli.csproj
  [ -f "$project" ] || die "publish runs in the repository (no $project); on the GPU machine use 'run'"
  out=${1:-$repo/.gpu-check}
  dotnet=${DOTNET:-dotnet}
  command -v "$dotnet" >/dev/null 2>&1 || die "publish needs the .NET 10 SDK ('$dotnet' not found on PATH)"

  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

  # Build and intermediate files go to obj/gpu-check/ at the repository root (ignored by git, kept for the
  # next publish), not to the projects' own bin/ and obj/: a RID-specific restore there would rewrite
  # project.assets.json under a concurrent `dotnet build`/`dotnet test` and force them to restore again.
  local artifacts=$repo/obj/gpu-check
  stage=$artifacts/stage
  rm -rf "$stage"
  mkdir -p "$out"

  local start end
  start=$(now)
  say "publishing $project (linux-x64, self-contained, single file) ..."
  # No IncludeNativeLibrariesForSelfExtract: the runtime's native parts are linked into the single-file host
  # on Linux, ILGPU ships no native library, and the drivers (libcuda, libOpenCL) are the machine's own,
  # loaded by name. So nothing is extracted at run time: no $HOME/.net, no writable folder needed.
  # DisableTransitiveFrameworkReferenceDownloads: skip the ASP.NET Core runtime pack, which nothing here uses.
  "$dotnet" publish "$project" -c Release -r linux-x64 \
    -p:PublishSingleFile=true -p:SelfContained=true -p:EnableCompressionInSingleFile=true \
    -p:InvariantGlobalization=true -p:DisableTransitiveFrameworkReferenceDownloads=true \
    --artifacts-path "$artifacts" -o "$stage" -v:quiet -nologo \
    || die "dotnet publish failed"

  # The bundle is named after the assembly (IlgpuNorm.Cli, see the project file); the command is ilgpunorm.
  [ -x "$stage/IlgpuNorm.Cli" ] || die "dotnet publish left no $stage/IlgpuNorm.Cli"
  cp "$stage/IlgpuNorm.Cli" "$out/.$BINARY.tmp"
  mv -f "$out/.$BINARY.tmp" "$out/$BINARY"
  # The script copies itself unless it already runs from OUT_DIR.
  if [ "$(cd "$out" && pwd -P)" != "$SCRIPT_DIR" ]; then
    cp "$SCRIPT_DIR/gpu-check.sh" "$SCRIPT_DIR/$TORCH_SCRIPT" "$out/"
  fi
  chmod +x "$out/$BINARY" "$out/gpu-check.sh"
  end=$(now)

  local commit="unknown (not a git checkout)" head
  if command -v git >/dev/null 2>&1 && head=$(git -C "$repo" rev-parse HEAD 2>/dev/null); then
    commit=$head
    [ -z "$(git -C "$repo" status --porcelain -- src 2>/dev/null)" ] || commit="$commit, with uncommitted changes in src/"
  fi
  {
    echo "ilgpunorm $("$out/$BINARY" --version 2>/dev/null || echo '?')"
    echo "commit: $commit"
    echo "published: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm) with .NET SDK $("$dotnet" --version)"
    echo "publish: -c Release -r linux-x64 -p:PublishSingleFile=true -p:SelfContained=true -p:EnableCompressionInSingleFile=true -p:InvariantGlobalization=true"
  } > "$out/build-info.txt"

  local size
  size=$(stat -c %s "$out/$BINARY")
  say "published $out/$BINARY: $((size / 1024 / 1024)) MiB ($size bytes) in $(elapsed "$start" "$end") s"
  say "carry the folder $out to the GPU machine and run: bash gpu-check.sh run"
}

# ---------------------------------------------------------------------------------------------------------------
# run

STEP_NAMES=()
STEP_RESULTS=()
FAILED=0

# Runs one step under the time limit; records "ok", "FAILED (exit N)" or "TIMED OUT" and its duration.
# Usage: step NAME REQUIRED(yes|no) COMMAND...; a failed required step makes `run` exit 1.
step() {
  local name=$1 required=$2
  shift 2
  local limit=${GPU_CHECK_STEP_TIMEOUT:-300} rc=0 start end result
  echo
  echo "=== $name: $*"
  start=$(now)
  # timeout runs programs, not this script's functions: those run without a limit.
  if [ "$limit" != 0 ] && command -v timeout >/dev/null 2>&1 && ! declare -F "$1" >/dev/null; then
    timeout --kill-after=10 "$limit" "$@" || rc=$?
  else
    "$@" || rc=$?
  fi
  end=$(now)
  case $rc in
    0) result="ok" ;;
    124 | 137) result="TIMED OUT (limit ${limit} s)" ;;
    *) result="FAILED (exit $rc)" ;;
  esac
  [ "$rc" -eq 0 ] || [ "$required" != yes ] || FAILED=1
  [ "$required" = yes ] || [ "$rc" -eq 0 ] || result="$result (informational)"
  result="$result in $(elapsed "$start" "$end") s"
  echo "=== $name: $result"
  STEP_NAMES+=("$name")
  STEP_RESULTS+=("$result")
}

skip() {
  echo
  echo "=== $1: skipped ($2)"
  STEP_NAMES+=("$1")
  STEP_RESULTS+=("skipped: $2")
}

# True when `ilgpunorm --help` lists a command NAME (a line that starts with spaces, then NAME, then a space).
has_command() {
  local help line
  help=$("$BIN" --help 2>/dev/null) || return 1
  while IFS= read -r line; do
    [[ $line =~ ^[[:space:]]+$1([[:space:]]|$) ]] && return 0
  done <<< "$help"
  return 1
}

# Usage: assemble_ptx PTXAS ARCH FILE...: assembles each PTX file with `ptxas -v` (registers, spills, shared
# memory); fails if any fails.
assemble_ptx() {
  local ptxas=$1 arch=$2 file rc=0
  shift 2
  for file in "$@"; do
    echo "--- ${file##*/}"
    "$ptxas" -arch="$arch" -v "$file" -o /dev/null 2>&1 || rc=1
  done
  return "$rc"
}

run_checks() {
  local dir=$1 sm=${GPU_CHECK_SM:-90} torch_script=""
  echo "gpu-check run, $(date -u +%Y-%m-%dT%H:%M:%SZ), on $(uname -n) ($(uname -srm))"
  echo "folder: $dir"
  [ -f "$dir/build-info.txt" ] && cat "$dir/build-info.txt"
  [ -z "${ILGPUNORM_DEVICE:-}" ] || echo "note: ILGPUNORM_DEVICE=$ILGPUNORM_DEVICE (the steps below name their devices)"

  if command -v nvidia-smi >/dev/null 2>&1; then
    step "nvidia-smi" no nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  else
    skip "nvidia-smi" "not on PATH"
  fi

  step "devices" yes "$BIN" devices
  step "verify cuda" yes "$BIN" verify --device cuda
  step "demo cuda" yes "$BIN" demo --device cuda
  step "demo host" yes "$BIN" demo --device host
  rm -rf "$dir/kernels" # an earlier run's files must not stand in for this one's
  step "kernels" yes "$BIN" kernels --out "$dir/kernels" --sm "$sm"

  # ptxas (CUDA toolkit) assembles the dumped PTX for this architecture: registers, spills, shared memory.
  local -a ptx_files=()
  local ptxas
  [ ! -d "$dir/kernels" ] || ptx_files=("$dir"/kernels/*.ptx)
  ptxas=$(command -v ptxas || true)
  [ -n "$ptxas" ] || [ ! -x /usr/local/cuda/bin/ptxas ] || ptxas=/usr/local/cuda/bin/ptxas
  if [ -z "$ptxas" ]; then
    skip "ptxas" "not on PATH nor in /usr/local/cuda/bin"
  elif [ "${#ptx_files[@]}" -eq 0 ] || [ ! -f "${ptx_files[0]}" ]; then
    skip "ptxas" "no PTX in $dir/kernels"
  else
    step "ptxas" no assemble_ptx "$ptxas" "sm_$sm" "${ptx_files[@]}"
  fi

  if has_command bench; then
    local -a bench_args
    read -r -a bench_args <<< "${GPU_CHECK_BENCH_ARGS:---device cuda --dtype f32,f16,bf16 --shape 1x4096,16x4096,4096x4096,1024x8192,32768x4096,32768x8192,8192x65536,4096x262144 --json ${OUT:-.}/gpu-bench.json --plot ${OUT:-.}/gpu-bench.png}"
    step "bench" yes "$BIN" bench "${bench_args[@]}"
  else
    skip "bench" "this ilgpunorm has no bench command"
  fi

  if [ -f "$dir/$TORCH_SCRIPT" ]; then
    torch_script=$dir/$TORCH_SCRIPT
  elif [ -f "$SCRIPT_DIR/$TORCH_SCRIPT" ]; then
    torch_script=$SCRIPT_DIR/$TORCH_SCRIPT
  fi
  if [ -z "$torch_script" ]; then
    skip "pytorch" "$TORCH_SCRIPT not found"
  elif ! command -v python3 >/dev/null 2>&1; then
    skip "pytorch" "no python3"
  elif ! python3 -c "import torch" >/dev/null 2>&1; then
    skip "pytorch" "python3 cannot import torch"
  else
    local -a torch_args
    read -r -a torch_args <<< "${GPU_CHECK_TORCH_ARGS:-}"
    step "pytorch" no python3 -u "$torch_script" "${torch_args[@]}"
  fi

  echo
  echo "=== summary"
  local i
  for i in "${!STEP_NAMES[@]}"; do
    printf '  %-12s %s\n' "${STEP_NAMES[i]}" "${STEP_RESULTS[i]}"
  done
  if [ "$FAILED" -eq 0 ]; then
    echo "gpu-check: all ilgpunorm steps passed"
  else
    echo "gpu-check: FAILED (see the steps above)"
  fi
  echo "log: $dir/gpu-check.log; PTX: $dir/kernels/"
  return "$FAILED"
}

run() {
  local dir
  if [ $# -ge 1 ]; then
    dir=$1
  elif [ -x "$SCRIPT_DIR/$BINARY" ]; then
    dir=$SCRIPT_DIR
  else
    dir=$SCRIPT_DIR/../.gpu-check
  fi
  [ -d "$dir" ] || die "no folder $dir: run 'scripts/gpu-check.sh publish' first, then carry its folder here"
  dir=$(cd "$dir" && pwd -P)
  BIN=$dir/$BINARY
  [ -x "$BIN" ] || die "no executable $BIN: run 'scripts/gpu-check.sh publish' first"

  local status=0
  run_checks "$dir" 2>&1 | tee "$dir/gpu-check.log" || status=$?
  return "$status"
}

case ${1:-} in
  publish) shift; [ $# -le 1 ] || { usage >&2; exit 2; }; publish "$@" ;;
  run) shift; [ $# -le 1 ] || { usage >&2; exit 2; }; run "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
