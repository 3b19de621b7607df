// Package firecracker turns the metrics Firecracker writes to its metrics file or FIFO
// (--metrics-path, or PUT /metrics) into cumulative counters.
//
// Format (firecracker-microvm/firecracker, commit 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab):
// each flush writes one JSON object and a newline (src/vmm/src/logger/metrics.rs,
// Metrics::write: serde_json::to_writer then "\n"). A SharedIncMetric serializes the
// increase since the previous flush (its Serialize impl stores the snapshot it wrote), a
// SharedStoreMetric its current value; both are bare unsigned integers. Device metrics sit
// beside the aggregate under "net_<iface_id>" and "block_<drive_id>"
// (src/vmm/src/devices/virtio/net/metrics.rs, block/virtio/metrics.rs). A flush happens every
// 60 s and on the FlushMetrics action.
//
// The VMM can be under its guest's control, so lines are capped, keys are capped, and a
// line that does not parse is dropped whole and counted: nothing is guessed.
package firecracker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits bound what one metrics source may make the collector hold.
type Limits struct {
	// MaxLineBytes is the longest line accepted (default 256 KiB; a flush of a VM with a
	// few devices is about 10 KiB).
	MaxLineBytes int
	// MaxKeys bounds the distinct counters kept (default 8192).
	MaxKeys int
}

func (l Limits) withDefaults() Limits {
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = 256 << 10
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = 8192
	}
	return l
}

// Dropped counts what was refused, by reason.
type Dropped struct {
	// Oversized lines went past MaxLineBytes; Malformed lines were not a JSON object of
	// numbers and objects; Keys are counters refused past MaxKeys.
	Oversized, Malformed, Keys uint64
}

// Accumulator keeps the running sums of one Firecracker process's metrics.
type Accumulator struct {
	limits  Limits
	sums    map[string]uint64 // SharedIncMetric: sum of the deltas
	gauges  map[string]uint64 // SharedStoreMetric: last value
	pending []byte            // a line not yet ended by "\n"
	skip    bool              // inside an oversized line: drop until its "\n"
	Lines   uint64            // lines accepted
	Dropped Dropped
	// LastTimestampMs is utc_timestamp_ms of the last accepted line.
	LastTimestampMs uint64
}

// NewAccumulator returns an empty Accumulator.
func NewAccumulator(l Limits) *Accumulator {
	return &Accumulator{limits: l.withDefaults(), sums: map[string]uint64{}, gauges: map[string]uint64{}}
}

// Write feeds bytes read from the metrics file or FIFO; a line split across two writes is
// joined. It never fails: refused lines are counted in Dropped.
func (a *Accumulator) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if a.skip {
				return n, nil
			}
			if len(a.pending)+len(p) > a.limits.MaxLineBytes {
				a.Dropped.Oversized++
				a.pending = a.pending[:0]
				a.skip = true
				return n, nil
			}
			a.pending = append(a.pending, p...)
			return n, nil
		}
		chunk := p[:i]
		p = p[i+1:]
		if a.skip {
			a.skip = false
			continue
		}
		if len(a.pending)+len(chunk) > a.limits.MaxLineBytes {
			a.Dropped.Oversized++
			a.pending = a.pending[:0]
			continue
		}
		line := chunk
		if len(a.pending) > 0 {
			a.pending = append(a.pending, chunk...)
			line = a.pending
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if err := a.feedLine(line); err != nil {
				a.Dropped.Malformed++
			}
		}
		a.pending = a.pending[:0]
	}
	return n, nil
}

// Pending reports the bytes of an unfinished line held for the next Write (a writer that
// stopped mid-line, or a line being written right now).
func (a *Accumulator) Pending() int { return len(a.pending) }

var errNotObject = errors.New("not a JSON object")

// feedLine applies one flush. The whole line is checked before any counter moves, so a
// malformed line changes nothing.
func (a *Accumulator) feedLine(line []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return err
	}
	if obj == nil {
		return errNotObject
	}
	type kv struct {
		key   string
		v     uint64
		store bool
	}
	var vals []kv
	var walk func(prefix string, raw json.RawMessage, depth int) error
	walk = func(prefix string, raw json.RawMessage, depth int) error {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			return errNotObject
		}
		switch raw[0] {
		case '{':
			if depth >= 2 { // group.aggregate.field is the deepest Firecracker writes
				return fmt.Errorf("%s: nested too deep", prefix)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			for k, v := range m {
				if err := walk(prefix+"."+k, v, depth+1); err != nil {
					return err
				}
			}
		case '"', 't', 'f', 'n':
			// Custom properties (MetricsProperties) and instance ids are strings: no counter.
		default:
			v, err := strconv.ParseUint(string(raw), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", prefix, err)
			}
			vals = append(vals, kv{prefix, v, isStore(prefix)})
		}
		return nil
	}
	for k, v := range obj {
		if k == "utc_timestamp_ms" {
			ts, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return err
			}
			a.LastTimestampMs = ts
			continue
		}
		if err := walk(k, v, 0); err != nil {
			return err
		}
	}
	for _, e := range vals {
		m := a.sums
		if e.store {
			m = a.gauges
		}
		old, ok := m[e.key]
		if !ok && len(a.sums)+len(a.gauges) >= a.limits.MaxKeys {
			a.Dropped.Keys++
			continue
		}
		if e.store {
			m[e.key] = e.v
		} else {
			m[e.key] = old + e.v // wraps like the u64 Firecracker counts in
		}
	}
	a.Lines++
	return nil
}

// isStore reports whether a metric path is a SharedStoreMetric (a value, not a delta). From
// the declarations in src/vmm/src/logger/metrics.rs and src/vmm/src/devices/virtio/
// vhost_user_metrics.rs at the commit above: LatencyAggregateMetrics min_us and max_us (its
// sum_us is incremental), api_server.process_startup_time_us and _cpu_us, every
// latencies_us field, seccomp.num_faults, the signals except sigpipe, vmm.panic_count, and
// the vhost-user *_time_us fields.
func isStore(path string) bool {
	leaf := path[strings.LastIndexByte(path, '.')+1:]
	group, _, _ := strings.Cut(path, ".")
	switch {
	case leaf == "min_us" || leaf == "max_us":
		return true
	case group == "latencies_us":
		return true
	case group == "api_server":
		return leaf == "process_startup_time_us" || leaf == "process_startup_time_cpu_us"
	case group == "seccomp":
		return leaf == "num_faults"
	case group == "signals":
		return leaf != "sigpipe"
	case group == "vmm":
		return leaf == "panic_count"
	case strings.HasPrefix(group, "vhost_user_"):
		return leaf == "init_time_us" || leaf == "activate_time_us" || leaf == "config_change_time_us"
	}
	return false
}

// Counter returns the cumulative sum of an incremental metric ("vcpu.exit_io_in",
// "net_eth0.rx_bytes_count").
func (a *Accumulator) Counter(path string) (uint64, bool) {
	v, ok := a.sums[path]
	return v, ok
}

// Gauge returns the last value of a store metric ("seccomp.num_faults").
func (a *Accumulator) Gauge(path string) (uint64, bool) {
	v, ok := a.gauges[path]
	return v, ok
}
