package virtdetect

import "strings"

// Clocksources are the kernel's available and current clock sources. Paravirtual clocks name
// their hypervisor: kvm-clock, hyperv_clocksource_tsc_page, xen.
type Clocksources struct {
	Available []string
	Current   string
}

// ParseClocksources parses the contents of available_clocksource and current_clocksource.
func ParseClocksources(available, current string) Clocksources {
	return Clocksources{Available: strings.Fields(available), Current: strings.TrimSpace(current)}
}

// ReadClocksources reads /sys/devices/system/clocksource/clocksource0.
func ReadClocksources(f FS) Clocksources {
	const dir = "/sys/devices/system/clocksource/clocksource0/"
	return ParseClocksources(f.ReadString(dir+"available_clocksource"), f.ReadString(dir+"current_clocksource"))
}

// Has reports whether name is available.
func (c Clocksources) Has(name string) bool {
	for _, a := range c.Available {
		if a == name {
			return true
		}
	}
	return c.Current == name
}

// HasPrefix reports whether a clock source starting with prefix is available.
func (c Clocksources) HasPrefix(prefix string) bool {
	for _, a := range c.Available {
		if strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return strings.HasPrefix(c.Current, prefix)
}
