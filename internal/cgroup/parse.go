// Package cgroup parses cgroup v1 and v2 control files and finds which hierarchy serves each
// controller on a host (v1, v2 or the hybrid layout where v1 controllers and a cgroup2 mount
// coexist). Parsers take a file's bytes and allocate nothing; one function per file format.
package cgroup

import (
	"bytes"
	"fmt"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// ErrMalformed is wrapped by every parse error (the one error of the Linux file layer, so that
// linuxfs.Classify counts it as reason malformed).
var ErrMalformed = linuxfs.ErrMalformed

func malformed(file, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", file, ErrMalformed, fmt.Sprintf(format, args...))
}

// v1Unlimited is the smallest value cgroup v1 uses for "no limit" in *.limit_in_bytes: the
// kernel prints PAGE_COUNTER_MAX * PAGE_SIZE, 0x7FFFFFFFFFFFF000 with 4 KiB pages, a little
// less with larger pages.
const v1Unlimited = 1 << 62

// Limit is a byte or count limit; Unlimited when none is set.
type Limit struct {
	Value     uint64
	Unlimited bool
}

// ParseLimit parses memory.max, memory.high, pids.max ("max" or a number) and v1
// memory.limit_in_bytes (a huge number for none).
func ParseLimit(data []byte) (Limit, error) {
	b := bytes.TrimSpace(data)
	if string(b) == "max" {
		return Limit{Unlimited: true}, nil
	}
	v, ok := bytesparse.Atou(b)
	if !ok {
		// v1 memory.limit_in_bytes can be "-1" when written so (it reads back as the max).
		if string(b) == "-1" {
			return Limit{Unlimited: true}, nil
		}
		return Limit{}, malformed("limit", "want \"max\" or a number, got %q", b)
	}
	if v >= v1Unlimited {
		return Limit{Unlimited: true}, nil
	}
	return Limit{Value: v}, nil
}

// ParseUint parses a single-number file (memory.current, memory.usage_in_bytes, pids.current).
func ParseUint(data []byte) (uint64, error) {
	v, ok := bytesparse.Atou(bytes.TrimSpace(data))
	if !ok {
		return 0, malformed("value", "want a number, got %q", bytes.TrimSpace(data))
	}
	return v, nil
}

// scanKV calls fn for every "key value" line; it fails on a line that is not two fields with a
// numeric value.
func scanKV(file string, data []byte, fn func(k []byte, v uint64)) error {
	var buf [3][]byte
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		f := bytesparse.Fields(buf[:0], line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return malformed(file, "line %q is not \"key value\"", line)
		}
		v, ok := bytesparse.Atou(f[1])
		if !ok {
			// Signed values exist in some files (v2 memory.stat can show negative
			// workingset counters transiently); they are not ones we keep.
			if _, ok := bytesparse.Atoi(f[1]); ok {
				continue
			}
			return malformed(file, "bad value in %q", line)
		}
		fn(f[0], v)
	}
	return nil
}

// V1Limit is a v1 limit value as read from memory.stat (hierarchical_memory_limit): the
// largest values mean none.
func V1Limit(v uint64) Limit {
	if v >= v1Unlimited || v == 0 {
		return Limit{Unlimited: true}
	}
	return Limit{Value: v}
}
