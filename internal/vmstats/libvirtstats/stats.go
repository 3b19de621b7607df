// Package libvirtstats reads libvirt's bulk domain statistics over the libvirt socket with
// the pure-Go RPC client github.com/digitalocean/go-libvirt (virConnectGetAllDomainStats, the
// call `virsh domstats` makes). Field names are libvirt's (src/libvirt-domain.c, the
// VIR_DOMAIN_STATS_* documentation of virConnectGetAllDomainStats; docs/manpages/virsh.rst,
// domstats).
package libvirtstats

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
)

// Domain is one domain's statistics. Times are nanoseconds, memory KiB, as libvirt reports.
type Domain struct {
	Name, UUID string
	ID         int32
	// State and Reason are virDomainState and its reason (state.state, state.reason).
	State, Reason int
	// CPUTime, CPUUser, CPUSystem: cpu.time (all of the domain's host CPU), cpu.user,
	// cpu.system.
	CPUTime, CPUUser, CPUSystem uint64
	VCPUs                       []VCPU
	Balloon                     Balloon
	Blocks                      []Block
	Nets                        []Net
	// KVM sums the vCPUs' KVM statistics (vcpu.<n>.<name>.sum, which libvirt 8.9 and later
	// relays from QEMU's query-stats for a KVM domain); HasKVM is false without them (TCG, an
	// older libvirt or QEMU).
	KVM    vmstats.KVMStats
	HasKVM bool
}

// VCPU is vcpu.<n>.*: state, time (host CPU of the vCPU thread), wait (time waiting on I/O,
// for QEMU from the thread's accounting) and delay (time runnable but waiting for a host CPU,
// from schedstat: what the guest sees as steal).
type VCPU struct {
	Index             int
	State             int
	TimeNS, WaitNS    uint64
	DelayNS           uint64
	HasWait, HasDelay bool
	// KVM holds vcpu.<n>.<name>.sum for the names vmstats.KVMStats has.
	KVM    vmstats.KVMStats
	HasKVM bool
}

// Balloon is balloon.*: current and maximum memory, and what the guest's balloon driver
// reports (present only with a balloon device and a guest driver).
type Balloon struct {
	CurrentKiB, MaximumKiB, RSSKiB                uint64
	AvailableKiB, UsableKiB, UnusedKiB            uint64
	SwapInKiB, SwapOutKiB, MajorFault, MinorFault uint64
}

// Block is block.<n>.*, one virtual disk.
type Block struct {
	Name, Path                                    string
	RdReqs, RdBytes, RdTimesNS                    uint64
	WrReqs, WrBytes, WrTimesNS                    uint64
	FlReqs, FlTimesNS                             uint64
	AllocationBytes, CapacityBytes, PhysicalBytes uint64
}

// Net is net.<n>.*, one interface, from the guest's side (libvirt swaps a tap's counters).
type Net struct {
	Name                            string
	RxBytes, RxPkts, RxErrs, RxDrop uint64
	TxBytes, TxPkts, TxErrs, TxDrop uint64
}

// Limits bound one domain's records: libvirt is trusted more than a VMM, but the counts it
// relays (vcpu.current, block.count) come from the domain's configuration.
const (
	maxVCPUs   = 4096
	maxDevices = 1024
)

// StatsMask is the set of groups collected.
const StatsMask = libvirt.DomainStatsState | libvirt.DomainStatsCPUTotal | libvirt.DomainStatsBalloon |
	libvirt.DomainStatsVCPU | libvirt.DomainStatsInterface | libvirt.DomainStatsBlock

// FromRecord turns one record of virConnectGetAllDomainStats into a Domain. Unknown fields
// are ignored; a known field of the wrong type is an error (the record is refused whole).
func FromRecord(rec libvirt.DomainStatsRecord) (Domain, error) {
	d := Domain{Name: rec.Dom.Name, ID: rec.Dom.ID, UUID: formatUUID(rec.Dom.UUID)}
	vcpus := map[int]*VCPU{}
	blocks := map[int]*Block{}
	nets := map[int]*Net{}
	for _, p := range rec.Params {
		group, rest, _ := strings.Cut(p.Field, ".")
		var err error
		switch group {
		case "state":
			switch rest {
			case "state":
				d.State, err = asInt(p)
			case "reason":
				d.Reason, err = asInt(p)
			}
		case "cpu":
			switch rest {
			case "time":
				d.CPUTime, err = asU64(p)
			case "user":
				d.CPUUser, err = asU64(p)
			case "system":
				d.CPUSystem, err = asU64(p)
			}
		case "balloon":
			b := &d.Balloon
			dst := map[string]*uint64{"current": &b.CurrentKiB, "maximum": &b.MaximumKiB, "rss": &b.RSSKiB,
				"available": &b.AvailableKiB, "usable": &b.UsableKiB, "unused": &b.UnusedKiB, "swap_in": &b.SwapInKiB,
				"swap_out": &b.SwapOutKiB, "major_fault": &b.MajorFault, "minor_fault": &b.MinorFault}[rest]
			if dst != nil {
				*dst, err = asU64(p)
			}
		case "vcpu":
			idx, field, ok := indexed(rest, maxVCPUs)
			if !ok {
				continue // vcpu.current, vcpu.maximum
			}
			v := vcpus[idx]
			if v == nil {
				v = &VCPU{Index: idx}
				vcpus[idx] = v
			}
			switch field {
			case "state":
				v.State, err = asInt(p)
			case "time":
				v.TimeNS, err = asU64(p)
			case "wait":
				v.WaitNS, err = asU64(p)
				v.HasWait = true
			case "delay":
				v.DelayNS, err = asU64(p)
				v.HasDelay = true
			default:
				if name, ok := strings.CutSuffix(field, ".sum"); ok && slices.Contains(vmstats.KVMStatNames(), name) {
					var x uint64
					if x, err = asU64(p); err == nil {
						v.KVM.Set(name, x)
						v.HasKVM = true
					}
				}
			}
		case "block":
			idx, field, ok := indexed(rest, maxDevices)
			if !ok {
				continue
			}
			b := blocks[idx]
			if b == nil {
				b = &Block{}
				blocks[idx] = b
			}
			switch field {
			case "name":
				b.Name, err = asString(p)
			case "path":
				b.Path, err = asString(p)
			default:
				dst := map[string]*uint64{"rd.reqs": &b.RdReqs, "rd.bytes": &b.RdBytes, "rd.times": &b.RdTimesNS,
					"wr.reqs": &b.WrReqs, "wr.bytes": &b.WrBytes, "wr.times": &b.WrTimesNS, "fl.reqs": &b.FlReqs,
					"fl.times": &b.FlTimesNS, "allocation": &b.AllocationBytes, "capacity": &b.CapacityBytes,
					"physical": &b.PhysicalBytes}[field]
				if dst != nil {
					*dst, err = asU64(p)
				}
			}
		case "net":
			idx, field, ok := indexed(rest, maxDevices)
			if !ok {
				continue
			}
			n := nets[idx]
			if n == nil {
				n = &Net{}
				nets[idx] = n
			}
			if field == "name" {
				n.Name, err = asString(p)
			} else if dst := map[string]*uint64{"rx.bytes": &n.RxBytes, "rx.pkts": &n.RxPkts, "rx.errs": &n.RxErrs,
				"rx.drop": &n.RxDrop, "tx.bytes": &n.TxBytes, "tx.pkts": &n.TxPkts, "tx.errs": &n.TxErrs,
				"tx.drop": &n.TxDrop}[field]; dst != nil {
				*dst, err = asU64(p)
			}
		}
		if err != nil {
			return Domain{}, fmt.Errorf("domain %q: %s: %w", d.Name, p.Field, err)
		}
	}
	for _, i := range sortedKeys(vcpus) {
		v := vcpus[i]
		d.VCPUs = append(d.VCPUs, *v)
		if v.HasKVM {
			d.KVM.Add(&v.KVM)
			d.HasKVM = true
		}
	}
	for _, i := range sortedKeys(blocks) {
		d.Blocks = append(d.Blocks, *blocks[i])
	}
	for _, i := range sortedKeys(nets) {
		d.Nets = append(d.Nets, *nets[i])
	}
	return d, nil
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// indexed splits "<n>.<field>" with n below max.
func indexed(s string, max int) (int, string, bool) {
	n, field, ok := strings.Cut(s, ".")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || i >= max {
		return 0, "", false
	}
	return i, field, true
}

func asU64(p libvirt.TypedParam) (uint64, error) {
	switch v := p.Value.I.(type) {
	case uint64:
		return v, nil
	case uint32:
		return uint64(v), nil
	case int64:
		if v >= 0 {
			return uint64(v), nil
		}
	case int32:
		if v >= 0 {
			return uint64(v), nil
		}
	}
	return 0, fmt.Errorf("not an unsigned number: %T %v", p.Value.I, p.Value.I)
}

func asInt(p libvirt.TypedParam) (int, error) {
	v, err := asU64(p)
	if err != nil || v > 1<<31 {
		return 0, fmt.Errorf("not a small number: %v", p.Value.I)
	}
	return int(v), nil
}

func asString(p libvirt.TypedParam) (string, error) {
	s, ok := p.Value.I.(string)
	if !ok {
		return "", fmt.Errorf("not a string: %T", p.Value.I)
	}
	if len(s) > 4096 {
		return "", fmt.Errorf("string of %d bytes", len(s))
	}
	return s, nil
}

func formatUUID(u libvirt.UUID) string {
	h := fmt.Sprintf("%x", u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DefaultSocket is libvirtd's (or virtqemud's) read-write socket.
const DefaultSocket = "/var/run/libvirt/libvirt-sock"

// Client collects every active domain's statistics from one libvirt daemon.
type Client struct {
	Socket  string        // default DefaultSocket
	URI     string        // default qemu:///system
	Timeout time.Duration // dial timeout, default 2 s
}

// Collect connects, fetches the statistics of the active domains and disconnects.
func (c Client) Collect(ctx context.Context) ([]Domain, error) {
	sock := c.Socket
	if sock == "" {
		sock = DefaultSocket
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	uri := libvirt.QEMUSystem
	if c.URI != "" {
		uri = libvirt.ConnectURI(c.URI)
	}
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(sock), dialers.WithLocalTimeout(timeout)))
	if err := l.ConnectToURI(uri); err != nil {
		return nil, fmt.Errorf("libvirt socket %s: %w", sock, err)
	}
	defer l.Disconnect()
	type result struct {
		recs []libvirt.DomainStatsRecord
		err  error
	}
	done := make(chan result, 1)
	go func() {
		recs, err := l.ConnectGetAllDomainStats(nil, uint32(StatsMask), uint32(libvirt.ConnectGetAllDomainsStatsActive))
		done <- result{recs, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, fmt.Errorf("libvirt domain stats: %w", r.err)
	}
	out := make([]Domain, 0, len(r.recs))
	for _, rec := range r.recs {
		d, err := FromRecord(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
