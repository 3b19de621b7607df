package edgeprofileextension

import (
	"fmt"
	"time"
)

// Environment is what automatic selection looks at.
type Environment struct {
	// CPUs is the CPU limit in cores (cgroup quota, else the number of CPUs).
	CPUs float64
	// MemoryBytes is the memory limit (cgroup limit, else physical memory); 0 when unknown.
	MemoryBytes uint64
	// Arch is runtime.GOARCH.
	Arch string
	// Kubernetes reports whether the process runs in a Kubernetes pod.
	Kubernetes bool
	// Metered reports a metered uplink; MeteredWhy says how it was found.
	Metered    bool
	MeteredWhy string
	// UplinkAttempts and UplinkFailures count the recent connection probes to the backend.
	UplinkAttempts, UplinkFailures int
	UplinkTarget                   string
	// UplinkVia is the proxy the probes went through, empty when direct.
	UplinkVia string
}

const (
	mib = 1 << 20
	gib = 1 << 30
)

// Decide picks a preset for an environment and says why. It is pure; hysteresis is applied
// by the caller.
func Decide(env Environment) (preset, reason string) {
	via := ""
	if env.UplinkVia != "" {
		via = " through proxy " + env.UplinkVia
	}
	if env.UplinkAttempts >= 3 && env.UplinkFailures*2 > env.UplinkAttempts {
		return ProfileEdge, fmt.Sprintf("uplink failing: %d of the last %d connection attempts to %s%s failed", env.UplinkFailures, env.UplinkAttempts, env.UplinkTarget, via)
	}
	if env.Metered {
		return ProfileEdge, "uplink is metered (" + env.MeteredWhy + ")"
	}
	res := fmt.Sprintf("%.3g CPUs, %s memory", env.CPUs, formatBytes(env.MemoryBytes))
	if env.UplinkAttempts > 0 {
		res += fmt.Sprintf(", uplink to %s%s up (%d of %d probes failed)", env.UplinkTarget, via, env.UplinkFailures, env.UplinkAttempts)
	}
	// Before the resources: a pod's CPU or memory limit is a scheduling budget on a cluster
	// node, not the mark of an edge box (a DaemonSet limited to 1 CPU is common).
	if env.Kubernetes {
		return ProfileCloud, "running in Kubernetes (KUBERNETES_SERVICE_HOST is set; the pod's limits are not an edge box's), " + res
	}
	if env.CPUs <= 1 || (env.MemoryBytes > 0 && env.MemoryBytes <= 512*mib) {
		return ProfileEdge, "constrained resources: " + res
	}
	switch env.Arch {
	case "arm", "386", "mips", "mipsle", "mips64", "mips64le", "riscv64", "wasm":
		return ProfileEdge, "embedded-class architecture " + env.Arch + ", " + res
	}
	if env.CPUs >= 4 && env.MemoryBytes >= 4*gib {
		return ProfileCloud, "ample resources: " + res
	}
	return ProfileHybrid, "moderate resources: " + res
}

func formatBytes(b uint64) string {
	switch {
	case b == 0:
		return "unknown"
	case b >= gib:
		return fmt.Sprintf("%.1f GiB", float64(b)/gib)
	default:
		return fmt.Sprintf("%d MiB", b/mib)
	}
}

// hysteresis keeps auto mode from flapping: a new proposal must win Confirmations evaluations
// in a row, and the active profile must have been active for at least MinDwell.
type hysteresis struct {
	confirmations int
	minDwell      time.Duration

	candidate string
	streak    int
}

// observe records one proposal and reports whether to switch to it now.
func (h *hysteresis) observe(now time.Time, active string, activeSince time.Time, proposal string) (bool, string) {
	if proposal == active {
		h.candidate, h.streak = "", 0
		return false, "proposal matches the active profile"
	}
	if proposal != h.candidate {
		h.candidate, h.streak = proposal, 0
	}
	h.streak++
	if h.streak < h.confirmations {
		return false, fmt.Sprintf("%s proposed %d of %d times in a row", proposal, h.streak, h.confirmations)
	}
	if dwell := now.Sub(activeSince); dwell < h.minDwell {
		return false, fmt.Sprintf("%s confirmed, waiting: %s active for %s of the minimum %s", proposal, active, dwell.Round(time.Second), h.minDwell)
	}
	h.candidate, h.streak = "", 0
	return true, ""
}
