#!/usr/bin/env bash
# A Debian 13 (trixie) root with PoCL, the OpenCL CPU driver that ILGPU 1.5.3 accepts, for running the
# kernel tests on a real OpenCL driver. Debian 12's PoCL 3.1 lacks the generic address space; trixie's
# PoCL 6.0 has it, but needs trixie's C library, hence a chroot. See docs/opencl.md.
#
#   scripts/opencl-root.sh setup            build the root once (reused while complete); needs root
#   scripts/opencl-root.sh run -- CMD...    run CMD inside it, in the current directory, with the host's
#                                           .NET, NuGet package folder and this checkout bind-mounted at
#                                           the same paths; unmounts everything when CMD ends
#   scripts/opencl-root.sh clean            unmount leftovers and delete the root
#   scripts/opencl-root.sh status           say whether the root is complete and what is mounted in it
#
# Environment: ILGPUNORM_OPENCL_ROOT (default /var/cache/ilgpunorm/trixie-root), NUGET_PACKAGES.
set -euo pipefail

ROOT=${ILGPUNORM_OPENCL_ROOT:-/var/cache/ilgpunorm/trixie-root}
ROOT=${ROOT%/}
SUITE=trixie
MIRROR=${ILGPUNORM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# libOpenCL.so (unversioned) comes from ocl-icd-opencl-dev: ILGPU loads it by that name and, without it,
# silently finds no OpenCL device. libicu76: the .NET SDK's own globalization.
PACKAGES=pocl-opencl-icd,ocl-icd-opencl-dev,libicu76
MARKER=.ilgpunorm-root-complete
SPEC="suite=$SUITE packages=$PACKAGES"
LOCK=$ROOT.lock
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

say() { echo "opencl-root: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "'$1' needs root (mount, chroot): run it with sudo"
}

# Takes an exclusive lock for the rest of this process, so that a second run waits instead of tearing
# down the mounts of the first; leftover mounts seen under the lock belong to a run that died.
take_lock() {
  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$LOCK"
  if ! flock -n 9; then
    say "waiting for another opencl-root.sh on $ROOT to finish"
    flock -w 1800 9 || die "timed out waiting for the lock $LOCK"
  fi
}

# Mount points at or below $1, deepest first.
mounts_under() {
  findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1' | sort -r
}

# Stops processes still running inside the root (their /proc/PID/root is the root): a test host or a
# build node left behind would keep the mounts busy.
stop_leftover_processes() {
  local pid sig pids real
  real=$(readlink -f "$ROOT")
  for sig in TERM KILL; do
    pids=()
    for pid in /proc/[0-9]*; do
      pid=${pid#/proc/}
      [ "$pid" = "$$" ] && continue
      if [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$real" ]; then
        pids+=("$pid")
      fi
    done
    [ "${#pids[@]}" -eq 0 ] && return 0
    say "stopping ${#pids[@]} leftover process(es) in the root with SIG$sig: ${pids[*]}"
    kill "-$sig" "${pids[@]}" 2>/dev/null || true
    sleep 2
  done
}

# Unmounts everything at or below $1, deepest first; fails if anything is left.
unmount_all() {
  local base=$1 target left
  while read -r target; do
    [ -n "$target" ] || continue
    # findmnt -r escapes spaces as \x20: let printf turn them back.
    target=$(printf '%b' "$target")
    umount "$target" 2>/dev/null || umount -l "$target" || say "warning: could not unmount $target"
  done < <(mounts_under "$base")
  left=$(mounts_under "$base")
  [ -z "$left" ] || die "still mounted under $base: $left"
}

is_complete() {
  [ -f "$ROOT/$MARKER" ] && [ "$(cat "$ROOT/$MARKER")" = "$SPEC" ] &&
    [ -e "$ROOT/usr/lib/x86_64-linux-gnu/libOpenCL.so" ] && [ -e "$ROOT/etc/OpenCL/vendors/pocl.icd" ]
}

# Removes a directory tree, but never through a mount: a bind mount of the checkout or of .NET left in
# it would otherwise be deleted too (rm --one-file-system does not see bind mounts of the same disk).
remove_tree() {
  local dir=$1
  [ -e "$dir" ] || return 0
  unmount_all "$dir"
  [ -z "$(mounts_under "$dir")" ] || die "refusing to delete $dir: something is mounted in it"
  rm -rf --one-file-system "$dir"
}

install_bootstrapper() {
  if command -v mmdebstrap >/dev/null 2>&1 || command -v debootstrap >/dev/null 2>&1; then
    return 0
  fi
  say "installing mmdebstrap with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
}

cmd_setup() {
  need_root setup
  take_lock
  local start=$SECONDS
  if is_complete; then
    unmount_all "$ROOT"
    say "reusing $ROOT ($(du -sh --one-file-system "$ROOT" 2>/dev/null | cut -f1))"
    return 0
  fi

  [ -e "$ROOT" ] && say "$ROOT is incomplete or outdated: rebuilding it"
  remove_tree "$ROOT"
  local partial=$ROOT.partial
  remove_tree "$partial"
  install_bootstrapper

  if command -v mmdebstrap >/dev/null 2>&1; then
    say "building $ROOT with mmdebstrap ($SUITE: $PACKAGES)"
    mmdebstrap --quiet --mode=root --variant=apt --include="$PACKAGES" "$SUITE" "$partial" "$MIRROR" \
      || { unmount_all "$partial"; die "mmdebstrap failed"; }
  else
    say "building $ROOT with debootstrap ($SUITE: $PACKAGES)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$partial" "$MIRROR" >/dev/null \
      || { unmount_all "$partial"; die "debootstrap failed"; }
    chroot "$partial" apt-get clean
  fi
  unmount_all "$partial"

  [ -e "$partial/usr/lib/x86_64-linux-gnu/libOpenCL.so" ] || die "the root has no libOpenCL.so (ocl-icd-opencl-dev)"
  [ -e "$partial/etc/OpenCL/vendors/pocl.icd" ] || die "the root has no PoCL ICD (pocl-opencl-icd)"
  echo "$SPEC" >"$partial/$MARKER"
  mv "$partial" "$ROOT"
  say "built $ROOT in $((SECONDS - start)) s ($(du -sh --one-file-system "$ROOT" | cut -f1))"
}

# Bind-mounts $1 at the same path inside the root; $2 = ro to make it read-only.
bind_same_path() {
  local source=$1 mode=${2:-rw}
  mkdir -p "$ROOT$source"
  mount --bind "$source" "$ROOT$source"
  MOUNTED+=("$ROOT$source")
  if [ "$mode" = ro ]; then
    mount -o remount,bind,ro "$ROOT$source" 2>/dev/null || say "note: could not make $source read-only in the root"
  fi
}

cleanup_run() {
  local status=$?
  trap - EXIT INT TERM HUP
  stop_leftover_processes
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" || say "warning: could not unmount ${MOUNTED[i]}"
  done
  # Anything else (a mount made by the command itself) goes too.
  unmount_all "$ROOT" || status=1
  exit "$status"
}

cmd_run() {
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "usage: $0 run -- CMD [ARGS...]"

  local workdir dotnet_dir nuget
  workdir=$(pwd -P)
  dotnet_dir=${DOTNET_ROOT:-}
  if [ -z "$dotnet_dir" ]; then
    command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH (set DOTNET_ROOT)"
    dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
  fi
  # The NuGet folder of whoever called us (sudo changes HOME): the test adapter is found through it.
  if [ -n "${NUGET_PACKAGES:-}" ]; then
    nuget=$NUGET_PACKAGES
  elif [ -n "${SUDO_USER:-}" ]; then
    nuget=$(getent passwd "$SUDO_USER" | cut -d: -f6)/.nuget/packages
  else
    nuget=$HOME/.nuget/packages
  fi

  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "'run' needs root (mount, chroot) and sudo is not installed"
    local keep
    keep=$(compgen -e | grep -E '^(ILGPUNORM_|POCL_|OCL_|CI$|TERM$)' | paste -sd, -)
    exec sudo ${keep:+--preserve-env="$keep"} DOTNET_ROOT="$dotnet_dir" NUGET_PACKAGES="$nuget" \
      "${BASH_SOURCE[0]}" run -- "$@"
  fi
  take_lock
  is_complete || die "$ROOT is missing or incomplete: run 'sudo $0 setup' first"
  [ -x "$dotnet_dir/dotnet" ] || die "no dotnet in $dotnet_dir"
  [ -d "$nuget" ] || die "no NuGet package folder at $nuget (restore on the host first)"
  case "$workdir/" in "$ROOT/"*) die "run it from outside the root" ;; esac

  local stale
  stale=$(mounts_under "$ROOT")
  if [ -n "$stale" ]; then
    say "unmounting leftovers of an earlier run: $(echo "$stale" | tr '\n' ' ')"
    stop_leftover_processes
    unmount_all "$ROOT"
  fi

  # Who runs the command: the caller of sudo if any (so files it writes in the checkout stay theirs).
  local uid=${SUDO_UID:-0} gid=${SUDO_GID:-0} home
  if [ "$uid" -eq 0 ]; then home=/root; else home=/home/uid-$uid; fi
  mkdir -p "$ROOT$home"
  chown "$uid:$gid" "$ROOT$home"

  MOUNTED=()
  trap cleanup_run EXIT
  trap 'say "interrupted"; exit 130' INT
  trap 'say "terminated"; exit 143' TERM HUP

  mount -t proc proc "$ROOT/proc"
  MOUNTED+=("$ROOT/proc")
  # PoCL reads the CPU topology from sysfs ("failed to find sysfs cpu topology" without it).
  mount -t sysfs sysfs "$ROOT/sys" 2>/dev/null || mount --bind /sys "$ROOT/sys"
  MOUNTED+=("$ROOT/sys")
  mount --bind /dev "$ROOT/dev"
  MOUNTED+=("$ROOT/dev")
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
  MOUNTED+=("$ROOT/dev/shm")
  bind_same_path "$dotnet_dir" ro
  bind_same_path "$nuget" ro
  bind_same_path "$REPO"
  case "$workdir/" in
    "$REPO/"*) ;;
    *) bind_same_path "$workdir" ;;
  esac

  local -a env=(
    HOME="$home" USER="$(id -nu "$uid" 2>/dev/null || echo "uid-$uid")" LANG=C.UTF-8
    PATH="$dotnet_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    DOTNET_ROOT="$dotnet_dir" NUGET_PACKAGES="$nuget"
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
    # No build server or node left running in the root when the command ends.
    MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false
    # PoCL runs work-groups on every core: the kernels use a static shared-memory array, which ILGPU declares
    # inside the kernel (its dynamic shared memory lives in a program-scope pointer that concurrent groups
    # overwrite). POCL_* variables set by the caller (e.g. POCL_CPU_MAX_CU_COUNT) are passed through.
  )
  local name
  for name in $(compgen -e); do
    case "$name" in
      ILGPUNORM_OPENCL_ROOT) ;;
      ILGPUNORM_* | POCL_* | OCL_* | CI | TERM) env+=("$name=${!name}") ;;
    esac
  done

  # 9>&-: the command must not hold the lock; a process it leaves behind is stopped by the next run.
  local status=0
  # shellcheck disable=SC2016 # $1 and $@ are the inner shell's.
  chroot --userspec="$uid:$gid" "$ROOT" /usr/bin/env -i "${env[@]}" \
    /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "$@" 9>&- || status=$?
  exit "$status"
}

cmd_clean() {
  need_root clean
  take_lock
  stop_leftover_processes
  remove_tree "$ROOT.partial"
  remove_tree "$ROOT"
  rm -f "$LOCK"
  say "removed $ROOT"
}

cmd_status() {
  if is_complete; then
    echo "complete: $ROOT ($(du -sh --one-file-system "$ROOT" 2>/dev/null | cut -f1))"
  elif [ -e "$ROOT" ]; then
    echo "incomplete: $ROOT"
  else
    echo "absent: $ROOT"
  fi
  local mounts
  mounts=$(mounts_under "$ROOT")
  if [ -n "$mounts" ]; then echo "mounted:"; echo "$mounts"; else echo "mounted: nothing"; fi
}

case "${1:-}" in
  setup) shift; cmd_setup "$@" ;;
  run) shift; cmd_run "$@" ;;
  clean) shift; cmd_clean "$@" ;;
  status) shift; cmd_status "$@" ;;
  path) echo "$ROOT" ;;
  *) usage ;;
esac
