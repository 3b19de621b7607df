package virtualizationattributesprocessor

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// gvisorRelease is the kernel release gVisor reports to its guests.
const gvisorRelease = "4.4.0"

// kernelReleaseIn finds a Linux kernel release ("6.1.0-18-amd64", "5.15.153.1-microsoft-standard-WSL2")
// in an os.description such as "Linux 6.1.0-18-amd64" or a uname -a line; "" when there is none
// (descriptions like "Ubuntu 22.04.4 LTS" name a distribution, not a kernel).
func kernelReleaseIn(desc string) string {
	if !strings.Contains(desc, "Linux") {
		return ""
	}
	for _, f := range strings.Fields(desc) {
		dots, i := 0, 0
		for i < len(f) && (f[i] >= '0' && f[i] <= '9' || f[i] == '.') {
			if f[i] == '.' {
				dots++
			}
			i++
		}
		// A release has at least major.minor.patch and starts with a digit.
		if i > 0 && dots >= 2 && f[0] != '.' {
			return f
		}
	}
	return ""
}

// ownKernel applies the kernel-release heuristic: a workload that reports a kernel release
// different from the node's runs on its own kernel, a VM or gVisor. Only for resources no
// instance was found for, and only when enabled, because telemetry forwarded from other machines
// reports their kernels too.
func (p *virtProcessor) ownKernel(attrs pcommon.Map, hostRelease string) *instanceInfo {
	if hostRelease == "" {
		return nil
	}
	v, ok := attrs.Get("os.description")
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return nil
	}
	rel := kernelReleaseIn(v.Str())
	switch {
	case rel == "" || rel == hostRelease:
		return nil
	case rel == gvisorRelease:
		return p.kernelSandbox
	default:
		return p.kernelVM
	}
}
