#!/usr/bin/env bash
# Bytes on the wire and collector CPU per 10,000 spans for each edge_profile preset, beside a
# stock pipeline with the same sampler and exporter settings (no routing connector).
# Usage: extension/edgeprofileextension/bench.sh [pairs, default 7]   (from anywhere in the repo)
# Each pair runs both variants back to back, the order alternating from pair to pair; the cost
# is the median of the pairs' CPU ratios, with their range.
# Needs the binary (make bin/otelcol-virt) and telemetrygen (make tools); prints a Markdown table.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
make -s bin/otelcol-virt .tools/telemetrygen >/dev/null
out="$(mktemp)"
EDGE_PROFILE_BENCH_REPS="${1:-7}" EDGE_PROFILE_BENCH_OUT="$out" \
  OTELCOL_VIRT_BIN="$root/bin/otelcol-virt" \
  go test -count=1 -timeout 30m -run '^$' -bench '^BenchmarkPresetCostComparison$' -benchtime 1x ./extension/edgeprofileextension/ >/dev/null
cat "$out"
rm -f "$out"
