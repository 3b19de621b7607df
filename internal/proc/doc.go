// Package proc parses the /proc files the wasm_runtime receiver reads per scrape. Each parser
// takes the file's bytes (read once into a reused buffer by the caller) and allocates little or
// nothing, in the style of prometheus/procfs but without its per-call allocations: the receiver
// reads these files for every process of the host at every collection interval.
package proc

import (
	"fmt"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// ErrMalformed is wrapped by every parse error (the one error of the Linux file layer, so that
// linuxfs.Classify counts it as reason malformed).
var ErrMalformed = linuxfs.ErrMalformed

func malformed(file, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", file, ErrMalformed, fmt.Sprintf(format, args...))
}
