package vmstats

import (
	"bytes"
	"strconv"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// VM is one VMM process and what discovery found in it. Build it with Collector.Discover;
// the receiver keeps it with its instance and rediscovers when Stale reports so.
type VM struct {
	PID   int
	VCPUs []VCPUThread
	Taps  []Tap
	// NetNS is the target of /proc/<pid>/ns/net ("net:[<inode>]"); VMs of one namespace
	// share one read of net/dev per scrape.
	NetNS string
	// Expected is the number of vCPUs the VM was started with (from its command line or
	// VMM config, 0 when unknown); fewer found threads make Stale true.
	Expected int

	statPath, ioPath, netDevPath string
	stale                        bool
}

// Stale reports whether the VM should be discovered again: a vCPU thread vanished, or
// fewer vCPU threads than Expected were found (a vCPU running guest code at discovery time
// is missed by the kvm-vcpu fallback).
func (v *VM) Stale() bool { return v.stale || (v.Expected > 0 && len(v.VCPUs) < v.Expected) }

// VCPUStats is one vCPU's figures at a scrape.
type VCPUStats struct {
	Index, TID int
	// CPU is read only with Collector.VCPUStat (zero otherwise); Sched always.
	CPU   TaskCPU
	Sched Schedstat
}

// TapStats is one tap's counters at a scrape, as the host kernel keeps them (see
// NetCounters.GuestView for the guest's side).
type TapStats struct {
	Tap
	Host NetCounters
}

// VMStats is what one scrape collected for a VM. Slices are reused across Collect calls.
type VMStats struct {
	// Process is the VMM's whole thread group: GuestTime there sums all vCPUs. ProcessOK is
	// false when its stat could not be read this time (Process then holds nothing valid);
	// with CollectWithStat it is the caller's stat line.
	Process   TaskCPU
	ProcessOK bool
	VCPUs     []VCPUStats
	Taps      []TapStats
	IO        ProcIO
	// Errs holds the errors of the parts that failed (the rest is still valid); nil when
	// every read succeeded. IOErr is kept apart: /proc/<pid>/io needs ptrace access to
	// another user's process and fails alone.
	Errs  []error
	IOErr error
}

// Collector reads VMs through one linuxfs.Reader, the receiver's (one open-file cache, one
// buffer). It is not safe for concurrent use.
type Collector struct {
	R *linuxfs.Reader
	// ProcRoot is "/proc" unless the host's procfs is mounted elsewhere (a container
	// with the host's /proc at /host/proc); SysClassNet likewise.
	ProcRoot, SysClassNet string
	// VCPUStat also reads each vCPU thread's stat, for its guest time. Without it a vCPU
	// costs one read (schedstat, whose run time is the thread's CPU time at nanosecond
	// resolution, where stat's utime+stime are tick samples of it).
	VCPUStat bool

	netns map[string]*netnsDevs
	gen   uint64
}

type netnsDevs struct {
	gen  uint64
	err  error
	devs map[string]*seenCounters
}

type seenCounters struct {
	NetCounters
	gen uint64 // the scrape that last saw the device
}

// NewCollector returns a Collector reading the host's /proc and /sys/class/net through r,
// with VCPUStat set.
func NewCollector(r *linuxfs.Reader) *Collector {
	return &Collector{R: r, ProcRoot: "/proc", SysClassNet: "/sys/class/net", VCPUStat: true, netns: map[string]*netnsDevs{}}
}

// Discover finds the vCPU threads and tap devices of the VMM process pid. expected is the
// number of vCPUs it was started with (0 when unknown).
func (c *Collector) Discover(pid, expected int) (*VM, error) {
	base := c.ProcRoot + "/" + strconv.Itoa(pid)
	vm := &VM{PID: pid, Expected: expected, statPath: base + "/stat", ioPath: base + "/io", netDevPath: base + "/net/dev"}
	var err error
	if vm.VCPUs, err = DiscoverVCPUs(c.R, c.ProcRoot, pid, nil); err != nil {
		return vm, err
	}
	vm.Taps, _ = DiscoverTaps(c.R, c.ProcRoot, c.SysClassNet, pid, nil)
	if link, err := c.R.ReadlinkInto(base + "/ns/net"); err == nil {
		vm.NetNS = string(link)
	}
	return vm, nil
}

// BeginScrape starts a scrape: net/dev is read again once per network namespace.
func (c *Collector) BeginScrape() {
	c.gen++
	if len(c.netns) > 1024 {
		clear(c.netns) // namespaces of VMs gone long ago
	}
}

// Collect reads the figures of vm into s, the VMM's own /proc/<pid>/stat included. It
// allocates nothing once s has grown to the VM's size: every path was built at discovery, and
// through the reader's open-file cache each read is one pread.
func (c *Collector) Collect(vm *VM, s *VMStats) {
	s.Errs = s.Errs[:0]
	s.ProcessOK = false
	if data, err := c.R.ReadCached(vm.statPath); err != nil {
		s.Errs = append(s.Errs, err)
	} else if t, _, err := ParseTaskStat(data); err != nil {
		s.Errs = append(s.Errs, err)
	} else {
		s.Process, s.ProcessOK = t, true
	}
	c.collectThreads(vm, s)
}

// CollectWithStat is Collect for a caller that holds the VMM's stat line of this scrape
// already (the inventory's walk reads it): the VMM's CPU then has one source, the one its
// instance's CPU metrics come from, and its stat is not read a second time.
func (c *Collector) CollectWithStat(vm *VM, st *proc.Stat, s *VMStats) {
	s.Errs = s.Errs[:0]
	s.Process, s.ProcessOK = TaskCPUOf(st), true
	c.collectThreads(vm, s)
}

// TaskCPUOf is the CPU part of a stat line parsed by proc.ParseStat (Processor and Flags,
// which it does not keep, are zero).
func TaskCPUOf(st *proc.Stat) TaskCPU {
	return TaskCPU{UTime: st.UTime, STime: st.STime, GuestTime: st.GuestTime, CGuestTime: st.CGuestTime, State: st.State}
}

// collectThreads reads the vCPU threads, the VMM's I/O and the taps.
func (c *Collector) collectThreads(vm *VM, s *VMStats) {
	s.IOErr = nil
	s.VCPUs = s.VCPUs[:0]
	for i := range vm.VCPUs {
		th := &vm.VCPUs[i]
		v := VCPUStats{Index: th.Index, TID: th.TID}
		var err error
		if c.VCPUStat {
			var data []byte
			if data, err = c.R.ReadCached(th.statPath); err == nil {
				v.CPU, _, err = ParseTaskStat(data)
			}
		}
		if err == nil {
			var data []byte
			if data, err = c.R.ReadCached(th.schedstatPath); err == nil {
				v.Sched, err = ParseSchedstat(data)
			}
		}
		if err != nil {
			vm.stale = true
			s.Errs = append(s.Errs, err)
			continue
		}
		s.VCPUs = append(s.VCPUs, v)
	}
	if data, err := c.R.ReadCached(vm.ioPath); err != nil {
		s.IOErr = err
	} else if s.IO, err = ParseProcIO(data); err != nil {
		s.IOErr = err
	}
	s.Taps = s.Taps[:0]
	if len(vm.Taps) == 0 {
		return
	}
	devs, err := c.netDevs(vm)
	if err != nil {
		s.Errs = append(s.Errs, err)
		return
	}
	for _, t := range vm.Taps {
		if n := devs[t.Name]; n != nil && n.gen == c.gen {
			s.Taps = append(s.Taps, TapStats{Tap: t, Host: n.NetCounters})
		} else {
			vm.stale = true // the tap was removed or renamed
		}
	}
}

// maxNetDevLine bounds a line of net/dev: IFNAMSIZ, the colon and 16 counters of up to 20
// digits each with their separators (net/core/net-procfs.c, dev_seq_printf_stats).
const maxNetDevLine = 512

// netDevs returns the devices of the VM's network namespace, reading net/dev through this
// VM's pid the first time the namespace is seen in a scrape.
func (c *Collector) netDevs(vm *VM) (map[string]*seenCounters, error) {
	key := vm.NetNS
	if key == "" {
		key = vm.netDevPath
	}
	ns := c.netns[key]
	if ns == nil {
		ns = &netnsDevs{devs: map[string]*seenCounters{}}
		c.netns[key] = ns
	}
	if ns.gen == c.gen && ns.err == nil {
		return ns.devs, nil
	}
	ns.gen = c.gen
	data, err := c.R.ReadCachedRecords(vm.netDevPath, maxNetDevLine)
	if err != nil {
		ns.err = err
		return nil, err
	}
	// Keys stay from scrape to scrape (no allocation); gen tells which were seen now.
	ns.err = proc.ScanNetDev(data, func(name []byte, n NetCounters) {
		if !ValidIfName(name) {
			return // the kernel checks names (dev_valid_name); anything else is not a tap of ours
		}
		if p := ns.devs[string(name)]; p != nil {
			*p = seenCounters{n, c.gen}
		} else if len(ns.devs) < 4096 {
			ns.devs[string(bytes.Clone(name))] = &seenCounters{n, c.gen}
		}
	})
	return ns.devs, ns.err
}
