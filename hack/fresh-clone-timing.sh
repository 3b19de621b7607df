#!/usr/bin/env bash
# Times what a new user meets on this machine: `git clone`, then `make run` until the collector's
# health endpoint answers, then (unless --run-only) `make test`, with an empty Go module cache,
# build cache and GOPATH in a temporary directory, so nothing earlier builds helped.
#
#   hack/fresh-clone-timing.sh [--run-only] [repository]   (default: this checkout's HEAD)
#
# Prints the machine it ran on and one markdown table row per step. Needs the ports of
# examples/edge.yaml (4317, 4318, 9464, 13133, 13134) free. Debian packages that `make deps`
# installs are not removed first: on a new machine their download comes on top of `make test`.
set -euo pipefail
run_only=false
if [ "${1:-}" = "--run-only" ]; then run_only=true; shift; fi
repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
work=$(mktemp -d -t otelcol-virt-fresh-XXXXXX)
trap '[ -n "${run_pid:-}" ] && kill -- "-$run_pid" 2>/dev/null; chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

export GOPATH=$work/gopath GOMODCACHE=$work/gopath/pkg/mod GOCACHE=$work/gocache
export GOFLAGS=-modcacherw
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin

for port in 4317 4318 9464 13133 13134; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is in use: stop what listens there first" >&2; exit 1; fi
done

secs() { echo $(( $(date +%s) - $1 )); }
fmt() { printf '%d min %02d s' $(( $1 / 60 )) $(( $1 % 60 )); }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), virtualization $(systemd-detect-virt --vm 2>/dev/null || echo none), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
echo "commit:  $(git -C "$repo" rev-parse --short HEAD)"

t0=$(date +%s)
git clone --quiet "$repo" "$work/src"
cd "$work/src"
clone=$(secs "$t0")

t1=$(date +%s)
setsid make run >"$work/run.log" 2>&1 &
run_pid=$!
until curl -fsS -o /dev/null http://localhost:13133/ 2>/dev/null; do
  if ! kill -0 "$run_pid" 2>/dev/null; then echo "make run exited:" >&2; tail -30 "$work/run.log" >&2; exit 1; fi
  if [ "$(secs "$t1")" -gt 3600 ]; then echo "make run did not answer within an hour" >&2; exit 1; fi
  sleep 1
done
run=$(secs "$t1")
# make run's own process group (setsid above): stop the collector it started, which runs as
# bin/otelcol-virt relative to the clone, so a pattern match on its path would miss it.
kill -INT -- "-$run_pid" 2>/dev/null || true
wait "$run_pid" 2>/dev/null || true
run_pid=

echo
echo "| step | time |"
echo "|---|---|"
echo "| git clone | $(fmt "$clone") |"
echo "| make run until http://localhost:13133/ answers (modules downloaded and compiled) | $(fmt "$run") |"
if ! $run_only; then
  t2=$(date +%s)
  if make test >"$work/test.log" 2>&1; then result=passed; else result=FAILED; fi
  echo "| make test after that ($result) | $(fmt "$(secs "$t2")") |"
  [ "$result" = passed ] || { tail -60 "$work/test.log" >&2; exit 1; }
fi
