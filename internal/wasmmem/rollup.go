package wasmmem

import (
	"bytes"
	"fmt"
)

// Rollup is /proc/<pid>/smaps_rollup: the same fields as smaps, summed by the kernel over
// every mapping (fs/proc/task_mmu.c show_smaps_rollup, Linux 4.14+). It is the cheap read
// where only process totals are needed: one header and ~22 lines whatever the mapping count.
type Rollup struct {
	Rss          uint64
	Pss          uint64
	PssAnon      uint64
	PssFile      uint64
	PrivateDirty uint64
	Anonymous    uint64
	Swap         uint64
}

// ParseRollup reads the bytes of a smaps_rollup file. It allocates nothing.
func ParseRollup(b []byte) (Rollup, error) {
	var r Rollup
	header := false
	for lineNo := 1; len(b) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if len(line) == 0 {
			continue
		}
		if !header {
			var v VMA
			if err := parseHeader(line, &v); err != nil || !bytes.Equal(v.Path, []byte("[rollup]")) {
				return Rollup{}, fmt.Errorf("smaps_rollup line %d: %w: want the [rollup] header, got %q", lineNo, ErrMalformed, line)
			}
			header = true
			continue
		}
		var dst *uint64
		switch {
		case bytes.HasPrefix(line, []byte("Rss:")):
			dst = &r.Rss
		case bytes.HasPrefix(line, []byte("Pss:")):
			dst = &r.Pss
		case bytes.HasPrefix(line, []byte("Pss_Anon:")):
			dst = &r.PssAnon
		case bytes.HasPrefix(line, []byte("Pss_File:")):
			dst = &r.PssFile
		case bytes.HasPrefix(line, []byte("Private_Dirty:")):
			dst = &r.PrivateDirty
		case bytes.HasPrefix(line, []byte("Anonymous:")):
			dst = &r.Anonymous
		case bytes.HasPrefix(line, []byte("Swap:")):
			dst = &r.Swap
		default:
			continue
		}
		v, ok := kB(line)
		if !ok {
			return Rollup{}, fmt.Errorf("smaps_rollup line %d: %w: %q", lineNo, ErrMalformed, line)
		}
		*dst = v
	}
	if !header {
		return Rollup{}, fmt.Errorf("smaps_rollup: %w: empty", ErrMalformed)
	}
	return r, nil
}
