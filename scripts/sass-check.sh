#!/usr/bin/env bash
# Machine-code checks of every kernel, without a GPU (docs/gpu.md, "Machine code without a GPU").
#
# Generates the PTX of every kernel of every operation and dtype (`ilgpunorm kernels`), assembles it with NVIDIA's
# ptxas for each architecture (sm_80 and sm_90 by default) and reads the SASS with cuobjdump. The tools (ptxas,
# cuobjdump, nvdisasm) come from Debian's non-free `nvidia-cuda-toolkit` package, fetched with `apt-get download`
# through a private apt state (the machine's own sources stay as they are; nothing is installed) and unpacked with
# `dpkg-deb -x` into a cache that later runs reuse. Fails (exit 1) when a kernel:
#   - does not assemble;
#   - contains a jump table (BRX or BRXU in the SASS);
#   - uses local memory or spills (a stack frame, spill stores or loads, LDL/STL in the SASS);
#   - is a forward kernel (rms_norm.*) using more than 64 registers;
#   - has another number of FMAs when ptxas may not contract a multiply and an add (--fmad=false): the kernels compute
#     exact policies, and a contraction would give other bits than the host;
#   - is a vector kernel (.v2/.v4/.v8) without 128-bit global loads and stores (LDG.E.128, STG.E.128).
# Then prints a table: registers, shared memory, and the SASS instructions of the loops that run per packet, per
# element (see "How the loops are counted" in docs/gpu.md).
#
#   scripts/sass-check.sh                 # build, check sm_80 and sm_90, print the table
#   scripts/sass-check.sh --sm 90         # one architecture
#   scripts/sass-check.sh --ptx DIR       # check the *.sm_<N>.ptx already in DIR (no build)
#   scripts/sass-check.sh --self-test     # proves each check fails on known-bad PTX (a jump table, a spill, a contraction)
#   scripts/sass-check.sh --tools         # only fetch the tools, print their folder
#
# ILGPUNORM_CUDA_TOOLS=DIR uses ptxas, cuobjdump and nvdisasm from DIR instead. The cache is /var/cache/ilgpunorm/cuda-tools
# as root, else obj/cuda-tools in the repository (ignored by git). About a minute with the cache, 10 to 30 s more to fetch.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PACKAGE=nvidia-cuda-toolkit
# ptxas assembles; cuobjdump prints the SASS through nvdisasm.
TOOL_NAMES="ptxas cuobjdump nvdisasm"
MAX_FORWARD_REGISTERS=64
ARCHS="80 90"
PTX_DIR=
MODE=check

say() { echo "sass-check: $*"; }
die() { echo "sass-check: error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case $1 in
    --sm) ARCHS=$2; shift 2 ;;
    --ptx) PTX_DIR=$2; shift 2 ;;
    --self-test) MODE=self-test; shift ;;
    --tools) MODE=tools; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ilgpunorm-sass.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- The tools -------------------------------------------------------------------------------------------------------

# The Debian archive the machine already uses (deb822 .sources or one-line .list files), for this release's codename.
debian_source() {
  local codename=$1 file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk -v want="$codename" '
      function flush() { if (uri != "" && suite_ok && deb) { print uri " " key; found = 1; exit } uri = ""; key = ""; suite_ok = 0; deb = 0 }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) suite_ok = 1 }
      /^Signed-By:/ { key = $2 }
      END { if (!found) flush() }' "$file" | head -n 1
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    awk -v want="$codename" '$1 == "deb" {
        key = ""; i = 2
        if ($2 ~ /^\[/) { for (; i <= NF; i++) { if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) } if ($i ~ /\]$/) break } i++ }
        if ($(i + 1) == want) { print $i " " key; exit }
      }' "$file"
  done
}

fetch_tools() {
  local cache=$1 codename source uri key apt pkgdir attempt tool
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release); set ILGPUNORM_CUDA_TOOLS"
  source=$(debian_source "$codename" | head -n 1)
  [ -n "$source" ] || die "no Debian source for '$codename' in /etc/apt; set ILGPUNORM_CUDA_TOOLS to a folder with $TOOL_NAMES"
  uri=${source%% *}
  key=${source#* }
  [ -n "$key" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg

  # A private apt: its own source list (the same archive, the non-free component, for this one package), lists and
  # cache, so the machine's apt configuration and state are left as they are.
  apt=$work/apt
  mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$work/deb"
  echo "deb [signed-by=$key] $uri $codename non-free" > "$apt/sources.list"
  local opts=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root"
    -o "Acquire::Retries=3" -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false")
  for attempt in 1 2 3; do
    if apt-get "${opts[@]}" update >"$work/apt.log" 2>&1 &&
       (cd "$work/deb" && apt-get "${opts[@]}" download "$PACKAGE" >>"$work/apt.log" 2>&1); then
      break
    fi
    [ "$attempt" -lt 3 ] || { cat "$work/apt.log" >&2; die "apt-get download $PACKAGE failed"; }
    sleep $((attempt * 5))
  done
  pkgdir=$work/unpacked
  dpkg-deb -x "$work"/deb/"$PACKAGE"_*.deb "$pkgdir"
  for tool in $TOOL_NAMES; do
    [ -x "$pkgdir/usr/bin/$tool" ] || die "$PACKAGE has no usr/bin/$tool"
  done
  # Keep the three tools only (the package unpacks to 170 MB); the rename makes a half-written cache impossible.
  rm -rf "$cache.partial"
  mkdir -p "$cache.partial"
  for tool in $TOOL_NAMES; do cp "$pkgdir/usr/bin/$tool" "$cache.partial/"; done
  basename "$work"/deb/"$PACKAGE"_*.deb > "$cache.partial/PACKAGE"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
  rm -rf "$pkgdir" "$work/deb" "$apt"
}

tools_dir() {
  if [ -n "${ILGPUNORM_CUDA_TOOLS:-}" ]; then
    echo "$ILGPUNORM_CUDA_TOOLS"
    return
  fi
  local base
  if [ "$(id -u)" -eq 0 ]; then base=/var/cache/ilgpunorm; else base=$REPO/obj; fi
  echo "$base/cuda-tools"
}

have_tools() {
  local tool
  for tool in $TOOL_NAMES; do [ -x "$TOOLS/$tool" ] || return 1; done
}

TOOLS=$(tools_dir)
if ! have_tools; then
  [ -z "${ILGPUNORM_CUDA_TOOLS:-}" ] || die "ILGPUNORM_CUDA_TOOLS=$TOOLS lacks one of: $TOOL_NAMES"
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb (Debian), or ILGPUNORM_CUDA_TOOLS"
  mkdir -p "$(dirname "$TOOLS")"
  exec 9>"$(dirname "$TOOLS")/.cuda-tools.lock"
  flock 9
  if ! have_tools; then
    start=$SECONDS
    say "fetching $PACKAGE (apt-get download, non-free) into $TOOLS"
    fetch_tools "$TOOLS"
    say "tools ready in $((SECONDS - start)) s: $(cat "$TOOLS/PACKAGE" 2>/dev/null)"
  fi
  flock -u 9
fi
PTXAS=$TOOLS/ptxas
CUOBJDUMP=$TOOLS/cuobjdump
export NVDISASM_PATH=$TOOLS
if [ "$MODE" = tools ]; then
  echo "$TOOLS"
  exit 0
fi

# --- The checks ------------------------------------------------------------------------------------------------------

# The loops of one kernel's SASS: each loop is a backward branch and its body; a packet loop is an innermost loop that
# loads from global memory (loops over lanes without a load inside it count as nested, times the packet width) and has
# no barrier. Prints "loops=<sizes> per_element=<n> [sum=<n> out=<n>]".
count_loops() {
  perl -e '
    use strict; use warnings;
    my ($width, $forward) = @ARGV[0, 1];
    my (@addr, @text);
    open my $in, "<", $ARGV[2] or die;
    while (<$in>) {
      next unless m{^\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;?\s*/\*};
      push @addr, hex $1; push @text, $2;
    }
    my %at; $at{$addr[$_]} = $_ for 0 .. $#addr;
    my @loops;
    for my $i (0 .. $#text) {
      next unless $text[$i] =~ /\bBRA\s+(?:!?U?P[T0-9]+,\s*)?0x([0-9a-f]+)/;
      my $t = hex $1;
      push @loops, [$at{$t}, $i] if $t < $addr[$i] && exists $at{$t};
    }
    my $firstBar = (grep { $text[$_] =~ /\bBAR\.SYNC\b/ } 0 .. $#text)[0] // $#text;
    my $has = sub { my ($l, $re) = @_; scalar grep { $_ =~ $re } @text[$l->[0] .. $l->[1]] };
    my $inside = sub { my ($a, $b) = @_; $a != $b && $a->[0] >= $b->[0] && $a->[1] <= $b->[1] };
    my @packet = grep {
      my $l = $_;
      $has->($l, qr/\bLDG\b/) && !$has->($l, qr/\bBAR\b/) &&
        !grep { $inside->($_, $l) && $has->($_, qr/\bLDG\b/) } @loops
    } @loops;
    my @out;
    for my $l (@packet) {
      my @nested = grep { $inside->($_, $l) } @loops;
      my $size = $l->[1] - $l->[0] + 1;
      my $outer = $size; $outer -= $_->[1] - $_->[0] + 1 for @nested;
      # A loop over lanes (jump tables, before the packets were written out) runs width times per packet; on a path
      # one of them runs: the last in the code (the squares after the fused add; the weighted epilogue).
      my $perPacket = @nested ? $outer + $width * ($nested[-1][1] - $nested[-1][0] + 1) : $size;
      push @out, { at => $l->[0], pp => $perPacket, stg => $has->($l, qr/\bSTG\b/),
                   plainLdg => $has->($l, qr/^LDG\b/) };
    }
    my $sum = 0; $sum += $_->{pp} for @out;
    my $line = "loops=" . (join(",", map { $_->{pp} } @out) || "-");
    if ($forward) {
      my @p1 = grep { $_->{at} < $firstBar } @out;
      my @p3 = grep { $_->{at} > $firstBar } @out;
      my ($s) = (grep({ !$_->{stg} } @p1), sort { $a->{pp} <=> $b->{pp} } @p1);
      my ($o) = grep { $_->{stg} == 1 && $_->{plainLdg} == 1 } @p3;
      if ($s && $o) {
        printf "%s per_element=%.1f sum=%.1f out=%.1f\n", $line, ($s->{pp} + $o->{pp}) / $width, $s->{pp} / $width, $o->{pp} / $width;
      } else {
        print "$line per_element=? sum=? out=?\n";
      }
    } else {
      printf "%s per_element=%.1f\n", $line, $sum / $width;
    }
  ' "$1" "$2" "$3"
}

# Fused multiply-adds in a SASS listing (float32, float64, float16x2).
fmas() { { grep -oE '\b(FFMA|DFMA|HFMA2)(\.[A-Z0-9]+)*\b' "$1" || true; } | wc -l; }

# The sum of ptxas -v's "<n> bytes <what>" figures (0 when it reports none).
bytes() { { grep -oE "[0-9]+ bytes $1" "$2" || true; } | awk '{s += $1} END {print s + 0}'; }

# Kernel checks run in parallel; each failure is one line appended to this file.
FAILURES=$work/failures
fail_kernel() { echo "$1: $2" >> "$FAILURES"; }

# check_kernel NAME PTX SM: the checks above for one kernel; prints its table row.
check_kernel() {
  local name=$1 ptx=$2 sm=$3 base lowered cubin log regs smem stack spills lmem width forward=0 vector=0 brx lcount row loops
  base=$work/$name.sm_$sm
  lowered=$base.ptx
  cubin=$base.cubin
  log=$base.log
  case $name in rms_norm.*) forward=1 ;; esac
  case $name in *.v2|*.v4|*.v8) vector=1; width=${name##*.v} ;; *) width=1 ;; esac
  # ILGPU writes .version 8.0; the 11.8 ptxas reads up to 7.8, which has every instruction the kernels use.
  sed -E 's/^\.version 8\.[0-9]+$/.version 7.8/' "$ptx" > "$lowered"
  if ! "$PTXAS" -arch="sm_$sm" -v -o "$cubin" "$lowered" > "$log" 2>&1; then
    fail_kernel "$name sm_$sm" "does not assemble: $(grep -m1 -i error "$log" || tail -n 1 "$log")"
    printf '| %-36s | %-5s | %4s | %6s | %3s | %-24s | %8s |\n' "$name" "sm_$sm" "-" "-" "-" "does not assemble" "-"
    return
  fi
  regs=$({ grep -oE 'Used [0-9]+ registers' "$log" || true; } | awk '{r = $2} END {print r + 0}')
  smem=$(bytes 'smem' "$log")
  stack=$(bytes 'stack frame' "$log")
  spills=$(bytes 'spill (stores|loads)' "$log")
  lmem=$(bytes 'lmem' "$log")
  "$CUOBJDUMP" -sass "$cubin" > "$base.sass"
  brx=$(grep -cE '\bBRXU?\b' "$base.sass" || true)
  lcount=$(grep -cE '\b(LDL|STL)\b' "$base.sass" || true)
  [ "$brx" -eq 0 ] || fail_kernel "$name sm_$sm" "$brx BRX/BRXU (a jump table) in the SASS"
  [ "$stack" -eq 0 ] && [ "$spills" -eq 0 ] && [ "$lmem" -eq 0 ] && [ "$lcount" -eq 0 ] ||
    fail_kernel "$name sm_$sm" "local memory or spills (stack $stack B, spills $spills B, lmem $lmem B, $lcount LDL/STL)"
  if [ "$forward" -eq 1 ] && [ "$regs" -gt "$MAX_FORWARD_REGISTERS" ]; then
    fail_kernel "$name sm_$sm" "$regs registers (at most $MAX_FORWARD_REGISTERS for a forward kernel)"
  fi
  # No multiply-add contraction: ILGPU writes mul.f32/add.f32 without a rounding suffix, which ptxas may fuse into an
  # FMA (one rounding instead of two: other bits than the host). With --fmad=false it may not: the same FMA count.
  if ! "$PTXAS" -arch="sm_$sm" --fmad=false -o "$base.nofma.cubin" "$lowered" > /dev/null 2>&1; then
    fail_kernel "$name sm_$sm" "does not assemble with --fmad=false"
  else
    "$CUOBJDUMP" -sass "$base.nofma.cubin" > "$base.nofma.sass"
    if [ "$(fmas "$base.sass")" -ne "$(fmas "$base.nofma.sass")" ]; then
      fail_kernel "$name sm_$sm" "$(fmas "$base.sass") FMAs, $(fmas "$base.nofma.sass") with --fmad=false: a multiply and an add were contracted"
    fi
  fi
  if [ "$vector" -eq 1 ]; then
    grep -qE '\bLDG\.E\.128\b' "$base.sass" || fail_kernel "$name sm_$sm" "no 128-bit global load (LDG.E.128)"
    grep -qE '\bSTG\.E\.128\b' "$base.sass" || fail_kernel "$name sm_$sm" "no 128-bit global store (STG.E.128)"
  fi
  loops=$(count_loops "$width" "$forward" "$base.sass")
  row=$(printf '| %-36s | %-5s | %4s | %6s | %3s | %-24s | %8s |' "$name" "sm_$sm" "$regs" "$smem" "$brx" \
    "$(echo "$loops" | sed -E 's/^loops=([^ ]*).*/\1/')" "$(echo "$loops" | sed -E 's/.*per_element=([^ ]*).*/\1/')")
  echo "$row"
  case $loops in *sum=*) echo "$name sm_$sm ${loops#* }" >> "$work/forward-split.txt" ;; esac
}

header() {
  printf '| %-36s | %-5s | %4s | %6s | %3s | %-24s | %8s |\n' kernel arch regs "smem B" BRX "packet loops (SASS/packet)" "per elem"
  printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "-------" "-----:" "-------:" "----:" "$(printf -- '-%.0s' {1..26})" "---------:"
}

# --- Self-test: each check must fail on PTX made to break it ---------------------------------------------------------
if [ "$MODE" = self-test ]; then
  ptx_head='.version 7.8
.target sm_80
.address_size 64
'
  mkdir -p "$work/bad"
  # A jump table (brx.idx), as ILGPU 1.5.3 emitted for packet[j].
  cat > "$work/bad/rms_norm.brx.v4.ptx" <<EOF
$ptx_head
.visible .entry k(.param .u64 out, .param .u32 sel)
{
	.reg .b32 %r<8>; .reg .b64 %rd<3>;
	ld.param.u64 %rd1, [out]; ld.param.u32 %r1, [sel]; mov.u32 %r4, %tid.x; add.u32 %r1, %r1, %r4;
	ts: .branchtargets L0, L1, L2;
	brx.idx %r1, ts;
L0:	mov.b32 %r2, 10; bra.uni Done;
L1:	mov.b32 %r2, 20; bra.uni Done;
L2:	mov.b32 %r2, 30;
Done:	cvta.to.global.u64 %rd2, %rd1; st.global.v4.u32 [%rd2], {%r2, %r2, %r2, %r2};
	ld.global.v4.u32 {%r4, %r5, %r6, %r7}, [%rd2+16]; st.global.v4.u32 [%rd2+32], {%r7, %r6, %r5, %r4};
	ret;
}
EOF
  # Local memory: an array indexed at run time cannot live in registers.
  cat > "$work/bad/rms_norm.local.scalar.ptx" <<EOF
$ptx_head
.visible .entry k(.param .u64 out, .param .u32 sel)
{
	.local .align 4 .b8 buf[256];
	.reg .b32 %r<4>; .reg .b64 %rd<6>;
	ld.param.u64 %rd1, [out]; ld.param.u32 %r1, [sel];
	mov.u64 %rd2, buf; mul.wide.u32 %rd3, %r1, 4; add.u64 %rd4, %rd2, %rd3;
	st.local.u32 [%rd4], %r1; ld.local.u32 %r2, [buf+8];
	cvta.to.global.u64 %rd5, %rd1; st.global.u32 [%rd5], %r2;
	ret;
}
EOF
  # A multiply and an add that ptxas contracts into an FMA unless --fmad=false.
  cat > "$work/bad/rms_norm.fma.scalar.ptx" <<EOF
$ptx_head
.visible .entry k(.param .u64 out, .param .f32 a, .param .f32 b, .param .f32 c)
{
	.reg .f32 %f<6>; .reg .b64 %rd<3>;
	ld.param.u64 %rd1, [out]; ld.param.f32 %f1, [a]; ld.param.f32 %f2, [b]; ld.param.f32 %f3, [c];
	mul.f32 %f4, %f1, %f2; add.f32 %f5, %f4, %f3;
	cvta.to.global.u64 %rd2, %rd1; st.global.f32 [%rd2], %f5;
	ret;
}
EOF
  # The same multiply and add with explicit rounding (what ILGPU emits for the kernels): no contraction, must pass.
  sed 's/mul\.f32/mul.rn.f32/; s/add\.f32/add.rn.f32/' "$work/bad/rms_norm.fma.scalar.ptx" > "$work/bad/rms_norm.exact.scalar.ptx"
  status=0
  expect() {
    local name=$1 pattern=$2
    rm -f "$FAILURES"
    check_kernel "$name" "$work/bad/$name.ptx" 80 > /dev/null
    local got
    got=$(cat "$FAILURES" 2>/dev/null || true)
    if [ -z "$pattern" ]; then
      if [ -z "$got" ]; then say "self-test: $name passes, as it should"; else say "self-test: FAILED: $name should pass: $got"; status=1; fi
    elif grep -q -- "$pattern" <<< "$got"; then
      say "self-test: $name is caught ($pattern)"
    else
      say "self-test: FAILED: $name was not caught as '$pattern' (got: ${got:-nothing})"
      status=1
    fi
  }
  expect rms_norm.brx.v4 "BRX"
  expect rms_norm.local.scalar "local memory"
  expect rms_norm.fma.scalar "contracted"
  expect rms_norm.exact.scalar ""
  [ "$status" -eq 0 ] && say "self-test: every check fails on its bad PTX" || say "self-test: failed"
  exit "$status"
fi

# --- The kernels -----------------------------------------------------------------------------------------------------
if [ -z "$PTX_DIR" ]; then
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
  start=$SECONDS
  dotnet build -c Release "$REPO/src/IlgpuNorm.Cli" -v quiet -nologo > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "dotnet build failed"; }
  cli=$REPO/src/IlgpuNorm.Cli/bin/Release/net10.0/IlgpuNorm.Cli.dll
  PTX_DIR=$work/kernels
  for sm in $ARCHS; do
    dotnet "$cli" kernels --out "$PTX_DIR" --sm "$sm" > /dev/null || die "ilgpunorm kernels --sm $sm failed"
  done
  say "built and generated the PTX in $((SECONDS - start)) s"
fi

say "$("$PTXAS" --version | grep -m1 -oE 'release [0-9.]+.*')"
jobs_max=$(nproc 2>/dev/null || echo 2)
total=0
for sm in $ARCHS; do
  shopt -s nullglob
  files=("$PTX_DIR"/*.sm_"$sm".ptx)
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || die "no *.sm_$sm.ptx in $PTX_DIR"
  mkdir -p "$work/rows/$sm"
  for ptx in "${files[@]}"; do
    name=$(basename "$ptx" ".sm_$sm.ptx")
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    check_kernel "$name" "$ptx" "$sm" > "$work/rows/$sm/$name.row" &
    total=$((total + 1))
  done
done
wait
for sm in $ARCHS; do
  echo
  echo "sm_$sm"
  header
  cat "$work/rows/$sm"/*.row
done
if [ -f "$work/forward-split.txt" ]; then
  echo
  echo "forward kernels, per element: sum = the sum-of-squares loop, out = the plain epilogue with a weight"
  sort "$work/forward-split.txt"
fi
echo
if [ -s "$FAILURES" ]; then
  sort "$FAILURES" | sed 's/^/sass-check: FAILED: /' >&2
  say "$(wc -l < "$FAILURES") failure(s) in $total kernel builds"
  exit 1
fi
say "all $total kernel builds pass: no BRX, no local memory or spills, no contraction, forward kernels <= $MAX_FORWARD_REGISTERS registers, 128-bit accesses in the vector kernels"
