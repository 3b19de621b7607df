package qmp

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
)

// maxCPUs bounds the vCPUs taken from one answer (QEMU's x86 maximum is 4096 with x2APIC).
const maxCPUs = 4096

// Version is QEMU's version from the greeting.
type Version struct{ Major, Minor, Micro int }

// HasQueryStats reports QEMU 7.1 or later, which has query-stats.
func (v Version) HasQueryStats() bool { return v.Major > 7 || (v.Major == 7 && v.Minor >= 1) }

// minVersion is the oldest QEMU asked: query-cpus-fast, the newest command used otherwise,
// came with 2.12.
var minVersion = Version{2, 12, 0}

// ParseGreeting checks the greeting QEMU sends on connect ({"QMP": {"version": ...,
// "capabilities": [...]}}) and returns QEMU's version.
func ParseGreeting(line []byte) (Version, error) {
	var g struct {
		QMP *struct {
			Version struct {
				QEMU Version `json:"qemu"`
			} `json:"version"`
		} `json:"QMP"`
	}
	if err := json.Unmarshal(line, &g); err != nil {
		return Version{}, fmt.Errorf("not a QMP greeting: %w", err)
	}
	if g.QMP == nil {
		return Version{}, errors.New("not a QMP greeting (an HMP monitor, or not QEMU)")
	}
	v := g.QMP.Version.QEMU
	if v.Major < minVersion.Major || (v.Major == minVersion.Major && v.Minor < minVersion.Minor) {
		return v, fmt.Errorf("QEMU %d.%d is older than %d.%d (no query-cpus-fast)", v.Major, v.Minor, minVersion.Major, minVersion.Minor)
	}
	return v, nil
}

// CommandError is the error answer of a command (its class, e.g. CommandNotFound,
// DeviceNotActive).
type CommandError struct{ Class, Desc string }

func (e *CommandError) Error() string { return fmt.Sprintf("%s: %.200s", e.Class, e.Desc) }

// parseAnswer decodes one line of the monitor: an event (isEvent), the answer of command id
// (its "return" member), or that command's error.
func parseAnswer(line []byte, id int) (ret []byte, isEvent bool, err error) {
	var a struct {
		Event  *string          `json:"event"`
		Return json.RawMessage  `json:"return"`
		ID     *json.RawMessage `json:"id"`
		Error  *struct {
			Class string `json:"class"`
			Desc  string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal(line, &a); err != nil {
		return nil, false, fmt.Errorf("not a QMP answer: %w", err)
	}
	if a.Event != nil {
		return nil, true, nil
	}
	if a.ID == nil || string(*a.ID) != fmt.Sprint(id) {
		return nil, false, errors.New("an answer to another command")
	}
	if a.Error != nil {
		return nil, false, &CommandError{Class: a.Error.Class, Desc: a.Error.Desc}
	}
	if a.Return == nil {
		return nil, false, errors.New("an answer without return")
	}
	return a.Return, false, nil
}

// StatsResult is one entry of query-stats (qapi/stats.json StatsResult): the statistics of
// one target object from one provider.
type statsResult struct {
	Provider string `json:"provider"`
	QOMPath  string `json:"qom-path"`
	Stats    []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	} `json:"stats"`
}

// ErrNotKVM is returned when query-stats has no KVM statistics at all: the VM runs under TCG
// (or another accelerator), which keeps none. It is not a failure to report.
var ErrNotKVM = errors.New("query-stats has no KVM statistics (the VM is not accelerated by KVM)")

// countCPUs is the number of vCPUs in the return of query-cpus-fast.
func countCPUs(ret []byte) (int, error) {
	var cpus []json.RawMessage
	if err := json.Unmarshal(ret, &cpus); err != nil {
		return 0, err
	}
	if len(cpus) == 0 || len(cpus) > maxCPUs {
		return 0, fmt.Errorf("%d vCPUs", len(cpus))
	}
	return len(cpus), nil
}

// ParseVCPUStats joins the return of query-cpus-fast and of query-stats (target vcpu) by QOM
// path. A statistic that is not an unsigned integer (a histogram, a boolean) is refused for
// the names KVMStats holds and ignored for the others; a vCPU query-stats has no entry for is
// an error, not zeros.
func ParseVCPUStats(cpusRet, statsRet []byte) ([]VCPU, error) {
	var cpus []CPU
	if err := json.Unmarshal(cpusRet, &cpus); err != nil {
		return nil, fmt.Errorf("query-cpus-fast: %w", err)
	}
	if len(cpus) == 0 || len(cpus) > maxCPUs {
		return nil, fmt.Errorf("query-cpus-fast: %d vCPUs", len(cpus))
	}
	var results []statsResult
	if err := json.Unmarshal(statsRet, &results); err != nil {
		return nil, fmt.Errorf("query-stats: %w", err)
	}
	if len(results) > maxCPUs {
		return nil, fmt.Errorf("query-stats: %d results", len(results))
	}
	byPath := make(map[string]int, len(cpus))
	out := make([]VCPU, len(cpus))
	for i, c := range cpus {
		if _, dup := byPath[c.QOMPath]; dup || c.QOMPath == "" || c.Index < 0 {
			return nil, fmt.Errorf("query-cpus-fast: vCPU %d with QOM path %q", c.Index, c.QOMPath)
		}
		byPath[c.QOMPath] = i
		out[i].CPU = c
	}
	seen := make([]bool, len(cpus))
	kvm := 0
	for _, r := range results {
		if r.Provider != "kvm" {
			continue
		}
		i, ok := byPath[r.QOMPath]
		if !ok {
			return nil, fmt.Errorf("query-stats: %q is no vCPU of query-cpus-fast", r.QOMPath)
		}
		seen[i] = true
		kvm++
		for _, st := range r.Stats {
			var v uint64
			if err := json.Unmarshal(st.Value, &v); err != nil {
				if slices.Contains(vmstats.KVMStatNames(), st.Name) {
					return nil, fmt.Errorf("query-stats: %s of %s: not an unsigned integer", st.Name, r.QOMPath)
				}
				continue
			}
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("query-stats: %s of %s past 2^63", st.Name, r.QOMPath)
			}
			out[i].Stats.Set(st.Name, v)
		}
	}
	if kvm == 0 {
		return nil, ErrNotKVM
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("query-stats: no KVM statistics for vCPU %d (%s); is the VM accelerated by KVM?", out[i].Index, out[i].QOMPath)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out, nil
}

// maxBlocks bounds the block devices taken from one answer.
const maxBlocks = 1024

// Block is one entry of query-blockstats (qapi/block-core.json BlockStats): a virtual disk's
// bytes and requests as QEMU counts them, since the VM started.
type Block struct {
	// Device names the disk: the drive id (-drive id=, libvirt's drive-virtio-disk0), else
	// the id of its -device (the QOM path /machine/peripheral/<id>/...), else its node name.
	Device           string
	RdBytes, WrBytes uint64
	RdOps, WrOps     uint64
}

// ParseBlockStats decodes the return of query-blockstats; a counter that is not an unsigned
// integer refuses the answer.
func ParseBlockStats(ret []byte) ([]Block, error) {
	var raw []struct {
		Device   string `json:"device"`
		QDev     string `json:"qdev"`
		NodeName string `json:"node-name"`
		Stats    *struct {
			RdBytes *uint64 `json:"rd_bytes"`
			WrBytes *uint64 `json:"wr_bytes"`
			RdOps   *uint64 `json:"rd_operations"`
			WrOps   *uint64 `json:"wr_operations"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(ret, &raw); err != nil {
		return nil, fmt.Errorf("query-blockstats: %w", err)
	}
	if len(raw) > maxBlocks {
		return nil, fmt.Errorf("query-blockstats: %d devices, more than %d", len(raw), maxBlocks)
	}
	out := make([]Block, 0, len(raw))
	for _, r := range raw {
		st := r.Stats
		if st == nil || st.RdBytes == nil || st.WrBytes == nil || st.RdOps == nil || st.WrOps == nil {
			return nil, fmt.Errorf("query-blockstats: device %q without its counters", r.Device)
		}
		name := r.Device
		if name == "" {
			if id, ok := strings.CutPrefix(r.QDev, "/machine/peripheral/"); ok {
				name, _, _ = strings.Cut(id, "/")
			}
		}
		if name == "" {
			name = r.NodeName
		}
		if name == "" || len(name) > 256 {
			return nil, fmt.Errorf("query-blockstats: a device without a usable name (%q)", r.QDev)
		}
		for _, v := range []uint64{*st.RdBytes, *st.WrBytes, *st.RdOps, *st.WrOps} {
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("query-blockstats: %s: a counter past 2^63", name)
			}
		}
		out = append(out, Block{Device: name, RdBytes: *st.RdBytes, WrBytes: *st.WrBytes, RdOps: *st.RdOps, WrOps: *st.WrOps})
	}
	return out, nil
}

// RunStates are QEMU's RunState values (qapi/run-state.json).
var RunStates = [...]string{"debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate",
	"prelaunch", "finish-migrate", "restore-vm", "running", "save-vm", "shutdown", "suspended",
	"watchdog", "guest-panicked", "colo"}

// ParseStatus decodes the return of query-status: the VM's RunState.
func ParseStatus(ret []byte) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(ret, &st); err != nil {
		return "", fmt.Errorf("query-status: %w", err)
	}
	if !slices.Contains(RunStates[:], st.Status) {
		return "", fmt.Errorf("query-status: unknown RunState %.64q", st.Status)
	}
	return st.Status, nil
}

// ParseMemorySize decodes the return of query-memory-size-summary: the boot memory and what
// was plugged since (DIMMs, virtio-mem), in bytes.
func ParseMemorySize(ret []byte) (base, plugged uint64, err error) {
	var m struct {
		Base    *uint64 `json:"base-memory"`
		Plugged uint64  `json:"plugged-memory"`
	}
	if err := json.Unmarshal(ret, &m); err != nil {
		return 0, 0, fmt.Errorf("query-memory-size-summary: %w", err)
	}
	if m.Base == nil {
		return 0, 0, errors.New("query-memory-size-summary: no base-memory")
	}
	if *m.Base > math.MaxInt64/2 || m.Plugged > math.MaxInt64/2 {
		return 0, 0, errors.New("query-memory-size-summary: a size past 2^62 bytes")
	}
	return *m.Base, m.Plugged, nil
}

// ParseBalloon decodes the return of query-balloon: the memory the guest has, less what its
// balloon holds, in bytes.
func ParseBalloon(ret []byte) (uint64, error) {
	var b struct {
		Actual *uint64 `json:"actual"`
	}
	if err := json.Unmarshal(ret, &b); err != nil {
		return 0, fmt.Errorf("query-balloon: %w", err)
	}
	if b.Actual == nil || *b.Actual > math.MaxInt64 {
		return 0, errors.New("query-balloon: no actual size, or one past 2^63")
	}
	return *b.Actual, nil
}
