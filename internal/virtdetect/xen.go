package virtdetect

import (
	"math/big"
	"strings"
)

// xenFeatDom0 is XENFEAT_dom0 in /sys/hypervisor/properties/features.
const xenFeatDom0 = 11

// Xen is what /sys/hypervisor and /proc/xen say.
type Xen struct {
	// HypervisorType is /sys/hypervisor/type ("xen" on Xen guests and dom0).
	HypervisorType string
	// ProcXen is set when /proc/xen exists (xenfs).
	ProcXen bool
	// Dom0 is set from the features bit or a "control_d" capability.
	Dom0 bool
	// GuestType is /sys/hypervisor/guest_type (PV, HVM, PVH) when the kernel exports it.
	GuestType string
}

// ParseXenFeatures reports whether the hex feature mask has the dom0 bit.
func ParseXenFeatures(hex string) bool {
	n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.TrimSpace(hex), "0x"), 16)
	return ok && n.Bit(xenFeatDom0) == 1
}

// ReadXen reads /sys/hypervisor and /proc/xen.
func ReadXen(f FS) Xen {
	x := Xen{
		HypervisorType: f.ReadString("/sys/hypervisor/type"),
		ProcXen:        f.Exists("/proc/xen"),
		GuestType:      f.ReadString("/sys/hypervisor/guest_type"),
	}
	if feat := f.ReadString("/sys/hypervisor/properties/features"); feat != "" {
		x.Dom0 = ParseXenFeatures(feat)
	}
	if caps := f.ReadString("/proc/xen/capabilities"); strings.Contains(caps, "control_d") {
		x.Dom0 = true
	}
	return x
}
