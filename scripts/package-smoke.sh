#!/usr/bin/env bash
# Package smoke test: packs IlgpuNorm, installs it into a fresh console project exactly as a user would
# (`dotnet new console`, `dotnet add package IlgpuNorm`), runs a program that calls RmsNorm.Compute, and checks
# the printed result against values this script computes independently in float64 (awk). Fails loudly otherwise.
#
#   scripts/package-smoke.sh            # by hand; .ci/run calls it too. About 30 s.
#
# The package comes from a temporary local folder; its dependencies (ILGPU, System.Numerics.Tensors) from
# nuget.org through the machine's normal NuGet configuration, with the usual global package folder as a read-only
# fallback, so the freshly packed IlgpuNorm never lands in (or is served stale from) the global cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "error: package smoke: $*" >&2; exit 1; }

start=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
feed=$work/feed
app=$work/app
global=${NUGET_PACKAGES:-$HOME/.nuget/packages}

dotnet pack src/IlgpuNorm/IlgpuNorm.csproj -c Release -o "$feed" --nologo -v quiet >"$work/pack.log" 2>&1 \
  || { cat "$work/pack.log" >&2; fail "dotnet pack failed"; }
nupkg=$(find "$feed" -name 'IlgpuNorm.*.nupkg' ! -name '*.snupkg' | head -n 1)
[ -n "$nupkg" ] || fail "dotnet pack made no IlgpuNorm .nupkg in $feed"
[ -n "$(find "$feed" -name 'IlgpuNorm.*.snupkg')" ] || fail "dotnet pack made no symbol package (.snupkg)"
version=$(basename "$nupkg" .nupkg); version=${version#IlgpuNorm.}
# The package's file list (a .nupkg is a zip; python3 when unzip is absent).
if command -v unzip >/dev/null 2>&1; then
  listing=$(unzip -Z1 "$nupkg")
else
  listing=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$nupkg")
fi
for entry in README.md LICENSE lib/net10.0/IlgpuNorm.dll lib/net10.0/IlgpuNorm.xml; do
  printf '%s\n' "$listing" | grep -qxF "$entry" || fail "$(basename "$nupkg") lacks $entry"
done
echo "package-smoke: packed $(basename "$nupkg") (+ .snupkg)"

mkdir -p "$app"
cd "$app"
dotnet new console --framework net10.0 --name SmokeApp --output . >"$work/new.log" 2>&1 \
  || { cat "$work/new.log" >&2; fail "dotnet new console failed"; }
cat >nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="IlgpuNorm" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
  <fallbackPackageFolders>
    <add key="global" value="$global" />
  </fallbackPackageFolders>
</configuration>
XML
export NUGET_PACKAGES=$work/packages
dotnet add package IlgpuNorm --version "$version" >"$work/add.log" 2>&1 \
  || { cat "$work/add.log" >&2; fail "dotnet add package IlgpuNorm --version $version failed"; }

cat >Program.cs <<'CS'
using System.Globalization;
using IlgpuNorm;

// What a user writes: host arrays in, host array out.
int rows = 3, hidden = 7;
var x = new float[rows * hidden];
var w = new float[hidden];
for (int i = 0; i < x.Length; i++) x[i] = (i % 5 - 2) * 0.75f + i * 0.125f;
for (int j = 0; j < hidden; j++) w[j] = 0.5f + 0.25f * j;

float[] y = RmsNorm.Compute<float>(x, shape: [rows, hidden], normalizedShape: [hidden], weight: w,
    options: new RmsNormOptions { Epsilon = 1e-5 });
Console.WriteLine("device " + DeviceDispatcher.Shared.Select().Device.Request);
for (int i = 0; i < y.Length; i++)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"y {i} {y[i]:R}"));
}
CS
dotnet build -c Release --nologo -v quiet >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "the console app does not build against the package"; }

# float64 in awk, the same formula: y = x / sqrt(mean(x^2) + eps) * w, per row of 7.
check() {
  awk -v label="$1" '
    BEGIN {
      rows = 3; hidden = 7; eps = 1e-5; bad = 0; n = 0
      for (i = 0; i < rows * hidden; i++) x[i] = (i % 5 - 2) * 0.75 + i * 0.125
      for (j = 0; j < hidden; j++) w[j] = 0.5 + 0.25 * j
      for (r = 0; r < rows; r++) {
        s = 0; for (j = 0; j < hidden; j++) s += x[r * hidden + j] ^ 2
        inv = 1 / sqrt(s / hidden + eps)
        for (j = 0; j < hidden; j++) want[r * hidden + j] = x[r * hidden + j] * inv * w[j]
      }
    }
    $1 == "device" { device = $2 }
    $1 == "y" {
      got = $3 + 0; e = want[$2]; n++
      d = got - e; if (d < 0) d = -d
      a = e < 0 ? -e : e
      if (d > 1e-5 * a + 1e-7) { printf "error: package smoke (%s): y[%d] = %s, expected %.9g\n", label, $2, $3, e > "/dev/stderr"; bad++ }
    }
    END {
      if (n != rows * hidden) { printf "error: package smoke (%s): printed %d values, expected %d\n", label, n, rows * hidden > "/dev/stderr"; exit 1 }
      if (bad) exit 1
      printf "package-smoke: %s: %d values on %s match the float64 formula (rel 1e-5)\n", label, n, device
    }'
}
out=$(dotnet bin/Release/net10.0/SmokeApp.dll) || fail "the console app failed: $out"
printf '%s\n' "$out" | check "auto" || fail "wrong result (auto device)"
out=$(ILGPUNORM_DEVICE=cpu dotnet bin/Release/net10.0/SmokeApp.dll) || fail "the console app failed on ILGPUNORM_DEVICE=cpu: $out"
printf '%s\n' "$out" | check "ILGPUNORM_DEVICE=cpu" || fail "wrong result (ILGPU CPU accelerator)"
echo "package-smoke: IlgpuNorm $version OK in $((SECONDS - start)) s"
