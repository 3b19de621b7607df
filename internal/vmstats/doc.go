// Package vmstats collects VM-grade figures for the VMM processes the wasm_runtime receiver
// discovers: per-vCPU CPU time and run-queue wait, guest time against the VMM's own CPU, the
// VMM's tap devices and its disk I/O, and KVM's per-VM statistics from debugfs. Its
// subpackages read the counters a VMM offers itself (Firecracker's metrics file, Cloud
// Hypervisor's vm.counters, libvirt's domain stats) and Xen domains seen from dom0.
//
// Parsers take a file's bytes and allocate nothing; readers go through the receiver's
// linuxfs.Reader (one open-file cache, one buffer), and net/dev is parsed by proc.ScanNetDev. Everything a
// VMM writes is untrusted: a guest may have taken its VMM over, so every parser bounds what
// it accepts and rejects rather than guesses.
package vmstats

import (
	"fmt"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// ErrMalformed is wrapped by every parse error: linuxfs's, so the receiver classifies it as malformed.
var ErrMalformed = linuxfs.ErrMalformed

func malformed(file, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", file, ErrMalformed, fmt.Sprintf(format, args...))
}
