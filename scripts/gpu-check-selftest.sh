#!/usr/bin/env bash
# Checks scripts/gpu-check.sh without a GPU, for CI: publishes the CLI into a temporary folder, then, with a bare
# environment (no .NET SDK on PATH, no DOTNET_* variables, a HOME that does not exist), runs the published binary
# (host and ILGPU CPU accelerator verify, devices, PTX dump) and the published `gpu-check.sh run`, which must get
# through every step and fail only on CUDA when there is none. Takes about 15 s with a warm NuGet cache.
#
#   scripts/gpu-check-selftest.sh
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
MAX_BYTES=$((64 * 1024 * 1024))

work=$(mktemp -d "${TMPDIR:-/tmp}/ilgpunorm-gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work/published
checks=0

say() { echo "gpu-check-selftest: $*"; }
fail() { echo "gpu-check-selftest: error: $*" >&2; exit 1; }

# A bare environment, as on a GPU machine without the SDK: nothing of .NET on PATH, HOME absent (a single-file
# app that had to extract itself would fail here).
bare() { env -i PATH=/usr/bin:/bin HOME="$work/no-home" TMPDIR="$work" "$@"; }

# Runs a command in the bare environment and fails with its output if it exits non-zero.
expect_ok() {
  local output
  output=$(bare "$@" 2>&1) || { echo "$output" >&2; fail "failed: ${*#"$out/"}"; }
  checks=$((checks + 1))
  LAST_OUTPUT=$output
}

# Fails unless text $2 contains $1; shows the first 40 lines of $2 when it does not.
expect_in() {
  [[ $2 == *"$1"* ]] || { head -n 40 <<< "$2" >&2; fail "expected '$1' in the output above"; }
  checks=$((checks + 1))
}

start=${EPOCHREALTIME:-$(date +%s)}
bash "$REPO/scripts/gpu-check.sh" publish "$out"
end=${EPOCHREALTIME:-$(date +%s)}
publish_ms=$(( (${end/[.,]/} - ${start/[.,]/}) / 1000 ))
[[ $start == *[.,]* ]] || publish_ms=$(( (end - start) * 1000 ))

for f in ilgpunorm gpu-check.sh torch_rmsnorm_bench.py build-info.txt; do
  [ -f "$out/$f" ] || fail "publish left no $out/$f"
done
[ -x "$out/ilgpunorm" ] || fail "$out/ilgpunorm is not executable"
size=$(stat -c %s "$out/ilgpunorm")
[ "$size" -lt "$MAX_BYTES" ] || fail "$out/ilgpunorm is $size bytes; expected under 64 MiB"
checks=$((checks + 1))

bin=$out/ilgpunorm
expect_ok "$bin" --version
expect_ok "$bin" verify --device host --cases 4
expect_in "verify: all passed" "$LAST_OUTPUT"
# The ILGPU CPU accelerator emits its kernels with Reflection.Emit at run time: it must work in a single file.
expect_ok "$bin" verify --device cpu --cases 2
expect_in "verify: all passed" "$LAST_OUTPUT"
expect_ok "$bin" devices
expect_in "auto picks" "$LAST_OUTPUT"
expect_ok "$bin" kernels --out "$work/kernels" --sm 90
shopt -s nullglob
ptxs=("$work"/kernels/rms_norm.f32*.ptx)
[ "${#ptxs[@]}" -gt 0 ] || fail "kernels wrote no rms_norm.f32*.ptx into $work/kernels"
# ILGPU 1.5.3 may write an older .target than asked for (its minimum); the file must be PTX with an entry point.
ptx_text=$(<"${ptxs[0]}")
expect_in ".target sm_" "$ptx_text"
expect_in ".entry " "$ptx_text"

# The GPU-machine half, from the published folder: without CUDA it must run every step and exit 1 (verify cuda
# fails); with CUDA, exit 0.
rc=0
bare bash "$out/gpu-check.sh" run > "$work/run.out" 2>&1 || rc=$?
log=$out/gpu-check.log
[ -f "$log" ] || { cat "$work/run.out" >&2; fail "gpu-check.sh run wrote no $log"; }
text=$(<"$log")
expect_in "=== summary" "$text"
expect_in "  demo host    ok" "$text"
expect_in "  kernels      ok" "$text"
expect_in "  bench        " "$text"
case $rc in
  0) expect_in "gpu-check: all ilgpunorm steps passed" "$text" ;;
  1) expect_in "  verify cuda  FAILED" "$text" ;;
  *) cat "$work/run.out" >&2; fail "gpu-check.sh run exited $rc; expected 0 (CUDA present) or 1 (no CUDA)" ;;
esac
ptxs=("$out"/kernels/*.ptx)
[ "${#ptxs[@]}" -gt 0 ] || fail "gpu-check.sh run wrote no PTX into $out/kernels"

say "ok: $checks checks; publish $((publish_ms / 1000)).$((publish_ms % 1000 / 100)) s, ilgpunorm $((size / 1024 / 1024)) MiB ($size bytes); run exited $rc ($([ "$rc" -eq 0 ] && echo 'CUDA present' || echo 'no CUDA here'))"
