#!/usr/bin/env bash
# Captures /proc/<pid>/smaps of the real wasmtime test host (internal/testwasm/wasmtimehost)
# running N instances of the memgrow guest, into testdata/<name>/: smaps.gz, instances.jsonl
# (the host's "started" lines: each instance's linear-memory base, and its "report" line: the
# pages its own pagemap shows present per instance, read right after the smaps copy) and ORIGIN.
#
#   internal/wasmmem/testdata/capture.sh NAME N [MiB every k-th instance] [k]
#
# Run from the repository root, as a user that can read the host's /proc (the same user).
set -euo pipefail
name=${1:?name}; n=${2:?instances}; mib=${3:-8}; every=${4:-10}
root=$(git rev-parse --show-toplevel)
out="$root/internal/wasmmem/testdata/$name"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
(cd "$root/internal/testwasm" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -o "$work/memgrow.wasm" ./memgrow)
(cd "$root" && CGO_ENABLED=1 go build -o "$work/wasmtimehost" ./internal/testwasm/wasmtimehost/cmd/wasmtimehost)
args=()
for ((i = 0; i < n; i++)); do
  if ((i % every == 0)); then args+=(-i "memgrow=$work/memgrow.wasm,$mib,0"); else args+=(-i "memgrow=$work/memgrow.wasm,0"); fi
done
mkfifo "$work/in"
"$work/wasmtimehost" -work "$work" -cache "${TMPDIR:-/tmp}/otelcol-virt-testwasm" "${args[@]}" <"$work/in" >"$work/events" &
pid=$!
exec 3>"$work/in"
until grep -q '"event":"ready"' "$work/events"; do
  kill -0 "$pid" || { echo "host exited" >&2; exit 1; }
  sleep 0.2
done
sleep 2 # let every guest reach its sleep
cp "/proc/$pid/smaps" "$work/smaps"
echo report >&3
until grep -q '"event":"report"' "$work/events"; do sleep 0.1; done
echo stop >&3
exec 3>&-
wait "$pid" || true
# The capture's temporary directory is replaced by /capture in both files (paths only; the
# parser and classifier ignore them).
sed "s|$work|/capture|g" "$work/smaps" | gzip -9 -n >"$out/smaps.gz"
sed "s|$work|/capture|g" "$work/events" >"$out/instances.jsonl"
cat >"$out/ORIGIN" <<ORIGIN
Captured by internal/wasmmem/testdata/capture.sh $name $n $mib $every
from the wasmtime test host (internal/testwasm/wasmtimehost, wasmtime-go v39.0.1, wasmtime's
default on-demand allocator): $n instances of the memgrow guest in one process, every
${every}th holding $mib MiB, the others 0 (the Go runtime's own pages only).
smaps.gz: /proc/<host pid>/smaps, gzip -9 -n; instances.jsonl: the host's stdout.
The capture's temporary directory is written as /capture in both.
Kernel: $(uname -r), $(uname -m); $(date -u +%Y-%m-%d).
ORIGIN
echo "captured $(zcat "$out/smaps.gz" | wc -c) bytes of smaps into $out"
