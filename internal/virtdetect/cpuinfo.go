package virtdetect

import (
	"bufio"
	"bytes"
	"strings"
)

// CPUInfo is what detection needs from /proc/cpuinfo: the first CPU's flags and model name.
type CPUInfo struct {
	// HypervisorFlag is the "hypervisor" flag (CPUID.1:ECX[31]), set by every x86 hypervisor.
	HypervisorFlag bool
	// VirtFlags reports vmx or svm: hardware virtualization is available to this kernel.
	VirtFlags bool
	ModelName string
	// VendorID is the first CPU's vendor_id ("User Mode Linux" under UML).
	VendorID string
	// Present is false when the file was missing or had no flags line (arm64 has "Features").
	Present bool
}

// ParseCPUInfo parses /proc/cpuinfo, stopping after the first processor block.
func ParseCPUInfo(data []byte) CPUInfo {
	var ci CPUInfo
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	seenFlags := false
	for sc.Scan() {
		line := sc.Text()
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) == "" && seenFlags {
				break
			}
			continue
		}
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		switch key {
		case "vendor_id":
			if ci.VendorID == "" {
				ci.VendorID = value
			}
		case "model name":
			if ci.ModelName == "" {
				ci.ModelName = value
			}
		case "flags", "Features":
			if seenFlags {
				continue
			}
			seenFlags = true
			ci.Present = true
			for _, fl := range strings.Fields(value) {
				switch fl {
				case "hypervisor":
					ci.HypervisorFlag = true
				case "vmx", "svm":
					ci.VirtFlags = true
				}
			}
		}
	}
	return ci
}

// ReadCPUInfo reads /proc/cpuinfo.
func ReadCPUInfo(f FS) CPUInfo {
	b, err := f.ReadFile("/proc/cpuinfo")
	if err != nil {
		return CPUInfo{}
	}
	return ParseCPUInfo(b)
}
