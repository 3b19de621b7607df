package virtdetect

import "github.com/klauspost/cpuid/v2"

// HostCPUID reads CPUID of the CPU this process runs on (x86 only; elsewhere it reports no leaf).
type HostCPUID struct{}

// HypervisorVendor implements CPUID.
func (HostCPUID) HypervisorVendor() (string, bool) {
	if !cpuid.CPU.Supports(cpuid.HYPERVISOR) || cpuid.CPU.HypervisorVendorString == "" {
		return "", false
	}
	return cpuid.CPU.HypervisorVendorString, true
}
