package wasmruntimereceiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/cloudhypervisor"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/firecracker"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/libvirtstats"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/unixapi"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/vmmargs"
)

// vmSources are the opt-in sources of vm:, read once per scrape and attached to the VM
// instances of the inventory they belong to.
type vmSources struct {
	kvm        map[int][]vmstats.KVMVM // KVM's VMs by VMM pid, this scrape
	kvmOff     bool                    // refused under lockdown: not tried again
	fc         []*fcSource
	ch         []*chSource
	qmp        []*qmpSource
	libvirt    map[string]*libvirtstats.Domain // by UUID and by name, this scrape
	cmdlines   map[string][]byte               // VMM command line by instance key
	owned      map[string]*ownedSources        // by instance key, this scrape
	discovery  vmmDiscovery                    // entries without a path: found on command lines
	libvirtErr bool
}

type ownedSources struct {
	fc  []*fcSource
	ch  []*chSource
	qmp []*qmpSource
}

type fcSource struct {
	cfg FirecrackerSource
	src *firecracker.Source // nil without a metrics path
	api *fcAPI              // nil without an API socket, or with no_api
}

func (f *fcSource) close() {
	if f.src != nil {
		f.src.Close()
	}
}

// poll drains the metrics file or FIFO, if there is one.
func (f *fcSource) poll() error {
	if f.src == nil {
		return nil
	}
	return f.src.Poll()
}

type chSource struct {
	cfg  CloudHypervisorSource
	root *vmmargs.Root            // set when the socket was found on the VMM's command line
	devs []cloudhypervisor.Device // nil when the last request failed
	info *cloudhypervisor.Info    // vm.info; nil when the last request failed
}

func newVMSources(cfg *VMConfig) vmSources {
	var v vmSources
	for _, f := range cfg.Firecracker {
		if f.discovers() {
			v.discovery.fc = append(v.discovery.fc, f)
			continue
		}
		fc := &fcSource{cfg: f}
		if f.MetricsPath != "" {
			fc.src = firecracker.NewSource(f.MetricsPath, firecracker.NewAccumulator(firecracker.Limits{MaxLineBytes: f.MaxLineBytes}))
			fc.src.MaxReadBytes = f.MaxReadBytes
		}
		if f.APISocket != "" {
			fc.api = &fcAPI{socket: f.APISocket, timeout: f.Timeout}
		}
		v.fc = append(v.fc, fc)
	}
	for _, q := range cfg.QEMUQMP {
		if q.Socket == "" {
			v.discovery.qmp = append(v.discovery.qmp, q)
			continue
		}
		v.qmp = append(v.qmp, &qmpSource{cfg: q})
	}
	for _, c := range cfg.CloudHypervisor {
		if c.APISocket == "" {
			v.discovery.ch = append(v.discovery.ch, c)
			continue
		}
		v.ch = append(v.ch, &chSource{cfg: c})
	}
	return v
}

func (v *vmSources) close() {
	for _, f := range v.fc {
		f.close()
	}
	v.discovery.close()
}

// beginSources reads every opt-in source and finds the instance each belongs to.
func (s *scraperImpl) beginSources(ctx context.Context, snap *inventory.Snapshot) {
	v := &s.vm.sources
	cfg := &s.cfg.VM
	v.kvm = nil
	if cfg.KVMDebugfs.Enabled && !v.kvmOff {
		dir := cfg.KVMDebugfs.Path
		vms, err := vmstats.DiscoverKVMVMs(s.r, dir)
		if err != nil {
			r := linuxfs.Classify(err)
			if r == linuxfs.Vanished {
				r = linuxfs.Missing // no kvm directory: debugfs is not mounted or KVM not loaded
			}
			s.errs.Count(r, fmt.Errorf("vm.kvm_debugfs.path: %w; mount debugfs (mount -t debugfs none /sys/kernel/debug) and run as root, or disable vm.kvm_debugfs", err))
		}
		v.kvm = map[int][]vmstats.KVMVM{}
		for _, k := range vms {
			v.kvm[k.PID] = append(v.kvm[k.PID], k)
		}
	}
	for _, f := range v.fc {
		// Polled whether or not its instance is found: a FIFO is drained, or Firecracker drops
		// the flushes it cannot write.
		if err := f.poll(); err != nil {
			s.errs.Fail(err)
		}
	}
	v.libvirt = nil
	if cfg.Libvirt.Enabled {
		s.collectLibvirt(ctx)
	}
	v.owned = map[string]*ownedSources{}
	s.ownConfiguredSources(snap)
	apis := s.discoverSources(snap)
	for _, c := range v.ch {
		apis = append(apis, c)
	}
	for _, f := range v.fc {
		if f.api != nil {
			apis = append(apis, f.api)
		}
	}
	for _, q := range v.qmp {
		apis = append(apis, q)
	}
	s.askVMMs(ctx, apis)
}

// ownConfiguredSources gives each source configured with its path to its instance.
func (s *scraperImpl) ownConfiguredSources(snap *inventory.Snapshot) {
	v := &s.vm.sources
	if len(v.fc)+len(v.ch)+len(v.qmp) == 0 {
		return
	}
	cmdlines := make(map[string][]byte, len(v.cmdlines))
	for _, f := range v.fc {
		path := f.cfg.MetricsPath
		if path == "" {
			path = f.cfg.APISocket
		}
		if key, ok := s.sourceOwner(snap, f.cfg.VMID, path, "firecracker", cmdlines); ok {
			v.ownedBy(key).fc = append(v.ownedBy(key).fc, f)
		}
	}
	for _, c := range v.ch {
		if key, ok := s.sourceOwner(snap, c.cfg.VMID, c.cfg.APISocket, "cloud_hypervisor", cmdlines); ok {
			v.ownedBy(key).ch = append(v.ownedBy(key).ch, c)
		}
	}
	for _, q := range v.qmp {
		if key, ok := s.sourceOwner(snap, q.cfg.VMID, q.cfg.Socket, "qemu", cmdlines); ok {
			v.ownedBy(key).qmp = append(v.ownedBy(key).qmp, q)
		}
	}
	v.cmdlines = cmdlines // instances gone since drop out
}

// readCloudHypervisor asks the VMM for vm.info and vm.counters (its state and current size:
// a VM Kata or an orchestrator configured through the API has none on the command line),
// inside its root when its socket was found on its command line. Both requests share one
// timeout, which the configuration keeps below the collection interval.
func readCloudHypervisor(ctx context.Context, c *chSource) error {
	ctx, cancel := unixapi.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	cl := cloudhypervisor.Client{Socket: c.cfg.APISocket, Timeout: c.cfg.Timeout, Limits: cloudhypervisor.Limits{MaxBodyBytes: c.cfg.MaxBodyBytes}}
	if root := c.root; root != nil {
		cl.Dial = func(ctx context.Context) (net.Conn, error) { return root.DialUnix(ctx, c.cfg.APISocket) }
	}
	info, infoErr := cl.Info(ctx)
	c.info, c.devs = nil, nil
	if infoErr == nil {
		c.info = &info
		// A VM configured but not booted (or shut down: Cloud Hypervisor keeps its config and
		// reports Created) has no devices: vm.counters fails with VmNotRunning
		// (vmm/src/lib.rs vm_counters and vm_info, commit ae44c297). Not a failure to report.
		if info.State == "Created" {
			return nil
		}
	}
	devs, err := cl.Counters(ctx)
	c.devs = devs
	if err = errors.Join(infoErr, err); err != nil {
		return fmt.Errorf("vm.cloud_hypervisor %s: %w", c.cfg.APISocket, err)
	}
	return nil
}

func (v *vmSources) ownedBy(key string) *ownedSources {
	o := v.owned[key]
	if o == nil {
		o = &ownedSources{}
		v.owned[key] = o
	}
	return o
}

// sourceOwner finds the instance a VMM source belongs to: the one with its vm_id, else the
// instance of that VMM whose command line names the source's path (--metrics-path <path>,
// --api-socket path=<path>).
func (s *scraperImpl) sourceOwner(snap *inventory.Snapshot, vmID, path, vmm string, cmdlines map[string][]byte) (string, bool) {
	if vmID != "" {
		in, ok := snap.ByVMID(vmID)
		if !ok {
			return "", false
		}
		return in.Key, true
	}
	for i := range snap.Instances {
		in := &snap.Instances[i]
		if in.Identity.VMM != vmm && in.Identity.Runtime != vmm {
			continue
		}
		cl, ok := cmdlines[in.Key]
		if !ok {
			if cl, ok = s.vm.sources.cmdlines[in.Key]; !ok {
				if data, err := s.r.Read(vmmProcess(in).Dir + "cmdline"); err == nil {
					cl = bytes.Clone(data)
				} else {
					s.errs.Fail(err)
				}
			}
			cmdlines[in.Key] = cl
		}
		if namesPath(cl, path) {
			return in.Key, true
		}
	}
	return "", false
}

// namesPath reports whether a NUL-separated command line gives path as an argument, as the
// value of an --option=value, or of a key=value option in a comma-separated list.
func namesPath(cmdline []byte, path string) bool {
	for _, arg := range strings.Split(string(cmdline), "\x00") {
		for _, tok := range strings.Split(arg, ",") {
			for {
				if tok == path {
					return true
				}
				i := strings.IndexByte(tok, '=')
				if i < 0 {
					break
				}
				tok = tok[i+1:]
			}
		}
	}
	return false
}

// recordVMSources records what the opt-in sources hold for this instance, and its size: as
// given at boot, or as its VMM's API answered.
func (s *scraperImpl) recordVMSources(in *inventory.Instance, p *inventory.Process, ts pcommon.Timestamp) {
	v := &s.vm.sources
	size := vmSize{vcpus: in.Identity.VCPUs, memory: in.Identity.MemorySize}
	o := v.owned[in.Key]
	// KVM's statistics from one source: the VM's monitor, else libvirt (which relays the
	// monitor's), else debugfs.
	kvmDone := false
	if o != nil {
		for _, q := range o.qmp {
			if q.stats != nil && !kvmDone {
				recordKVMStats(s.mb, q.stats, ts)
				kvmDone = true
			}
			size = q.record(s.mb, ts, size)
		}
	}
	if v.libvirt != nil {
		d := v.libvirt["uuid:"+strings.ToLower(in.VMID())]
		if d == nil && in.VMName() != "" {
			d = v.libvirt["name:"+in.VMName()]
		}
		if d != nil {
			recordLibvirt(s.mb, d, ts)
			if d.HasKVM && !kvmDone {
				recordKVMStats(s.mb, &d.KVM, ts)
				kvmDone = true
			}
		}
	}
	if kvms := v.kvm[p.PID]; len(kvms) > 0 && !v.kvmOff && !kvmDone {
		s.recordKVM(kvms, ts)
	}
	if o != nil {
		for _, f := range o.fc {
			if f.src != nil {
				recordFirecracker(s.mb, f.src.Accumulator(), ts)
			}
			if f.api != nil {
				size = f.api.record(s.mb, ts, size)
			}
		}
		for _, c := range o.ch {
			recordCloudHypervisor(s.mb, c.devs, ts)
			if c.info != nil {
				size = recordCloudHypervisorInfo(s.mb, ts, c.info)
			}
		}
	}
	size.record(s.mb, ts)
}
