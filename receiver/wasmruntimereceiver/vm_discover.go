package wasmruntimereceiver

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/firecracker"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/vmmargs"
)

// vmmDiscovery holds the vm.firecracker and vm.cloud_hypervisor entries without a path, and
// the sources they found on the command lines of the VMM instances, by instance key.
type vmmDiscovery struct {
	fc     []FirecrackerSource
	ch     []CloudHypervisorSource
	qmp    []QEMUQMPSource
	found  map[string]*foundSources
	gen    uint64
	warned bool
}

// foundSources are what one VMM process's command line named (nil: nothing). They are looked
// for once per process: a VMM does not change its arguments, and a second reading would
// give a guest that took its VMM over a way to repoint the collector at every scrape.
type foundSources struct {
	pid   int
	start uint64
	seen  uint64
	fc    *fcSource
	ch    *chSource
	qmp   *qmpSource
}

func (f *foundSources) close() {
	if f.fc != nil {
		f.fc.close()
	}
}

func (d *vmmDiscovery) close() {
	for _, f := range d.found {
		f.close()
	}
}

// discoveryFor returns the first entry that applies to in (its vm_id, or none), nil if none.
func discoveryFor[S any](entries []S, vmID func(*S) string, in *inventory.Instance) *S {
	for i := range entries {
		if id := vmID(&entries[i]); id == "" || id == in.VMID() {
			return &entries[i]
		}
	}
	return nil
}

// discoverSources reads the sources the VMMs' command lines name, for the VMM instances that
// no configured path covers, and gives each to its instance. It returns the API sockets
// found, to be asked with the configured ones.
func (s *scraperImpl) discoverSources(snap *inventory.Snapshot) []vmmAPI {
	v := &s.vm.sources
	d := &v.discovery
	if len(d.fc)+len(d.ch)+len(d.qmp) == 0 {
		return nil
	}
	var apis []vmmAPI
	d.gen++
	if d.found == nil {
		d.found = map[string]*foundSources{}
	}
	for i := range snap.Instances {
		in := &snap.Instances[i]
		var want wantedSources
		switch in.Identity.VMM {
		case "firecracker":
			want.fc = discoveryFor(d.fc, func(f *FirecrackerSource) string { return f.VMID }, in)
		case "cloud_hypervisor":
			want.ch = discoveryFor(d.ch, func(c *CloudHypervisorSource) string { return c.VMID }, in)
		case "qemu":
			// A libvirt domain's monitor is libvirtd's: its figures come through vm.libvirt.
			if in.Cgroup.Runtime != cgroupid.RuntimeLibvirt {
				want.qmp = discoveryFor(d.qmp, func(q *QEMUQMPSource) string { return q.VMID }, in)
			}
		}
		if want.fc == nil && want.ch == nil && want.qmp == nil {
			continue
		}
		if o := v.owned[in.Key]; o != nil && len(o.fc)+len(o.ch)+len(o.qmp) > 0 {
			continue // a configured path covers it
		}
		p := vmmBinary(in)
		f := d.found[in.Key]
		if f == nil || f.pid != p.PID || f.start != p.Start {
			if f != nil {
				f.close()
				delete(d.found, in.Key)
			}
			if len(d.found) >= s.cfg.VM.maxVMs() {
				if !d.warned {
					d.warned = true
					s.logger.Warn("more VMM instances to discover sources for than vm.max_vms; the others are not read (raise vm.max_vms)", zap.Int("max_vms", s.cfg.VM.maxVMs()))
				}
				continue
			}
			f = s.findSources(in, p, want)
			d.found[in.Key] = f
		}
		f.seen = d.gen
		if f.fc != nil {
			if err := f.fc.poll(); err != nil {
				s.failFound(err)
			}
			if f.fc.api != nil {
				apis = append(apis, f.fc.api)
			}
			v.ownedBy(in.Key).fc = append(v.ownedBy(in.Key).fc, f.fc)
		}
		if f.ch != nil {
			apis = append(apis, f.ch)
			v.ownedBy(in.Key).ch = append(v.ownedBy(in.Key).ch, f.ch)
		}
		if f.qmp != nil {
			apis = append(apis, f.qmp)
			v.ownedBy(in.Key).qmp = append(v.ownedBy(in.Key).qmp, f.qmp)
		}
	}
	for key, f := range d.found {
		if f.seen != d.gen {
			f.close() // the instance is gone
			delete(d.found, key)
		}
	}
	return apis
}

// failFound counts a failure of a source found on a command line. A path the VMM's root does
// not hold is missing, not a vanished process: the VMM has not created it yet, or it named
// something outside its root, which is looked for inside only.
func (s *scraperImpl) failFound(err error) {
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EXDEV) {
		s.errs.Count(linuxfs.Missing, err)
		return
	}
	s.errs.Fail(err)
}

// findSources parses the VMM's command line as the VMM does (vmmargs) and sets up what it
// names, to be opened inside the VMM's root (<proc>/<pid>/root: a jailed Firecracker's
// chroot, a containerised VMM's mount namespace) or, for a relative path, beneath its working
// directory, and nowhere else.
// wantedSources are the discovering entries that apply to one instance (nil: none).
type wantedSources struct {
	fc  *FirecrackerSource
	ch  *CloudHypervisorSource
	qmp *QEMUQMPSource
}

func (s *scraperImpl) findSources(in *inventory.Instance, p *inventory.Process, want wantedSources) *foundSources {
	f := &foundSources{pid: p.PID, start: p.Start}
	cmdline, err := s.r.Read(p.Dir + "cmdline")
	if err != nil {
		s.errs.Fail(err)
		return f
	}
	root := vmmargs.ProcessRoot(p.Dir)
	failed := func(field string, err error) {
		if !errors.Is(err, vmmargs.ErrNotNamed) {
			s.errs.Fail(fmt.Errorf("%s discovery, instance %s (pid %d): %w", field, in.Key, p.PID, err))
		}
	}
	if want.fc != nil {
		f.fc = s.findFirecracker(cmdline, root, *want.fc, failed)
	}
	if want.qmp != nil {
		if path, err := vmmargs.QEMUQMPSocket(cmdline); err != nil {
			failed("vm.qemu_qmp", err)
		} else {
			cfg := *want.qmp
			cfg.Socket = path
			f.qmp = &qmpSource{cfg: cfg, root: &root}
		}
	}
	if chCfg := want.ch; chCfg != nil {
		path, err := vmmargs.CloudHypervisorAPISocket(cmdline)
		if d := (*vmmargs.DescriptorError)(nil); errors.As(err, &d) {
			path, err = s.socketOfDescriptor(p, d)
		}
		if err != nil {
			failed("vm.cloud_hypervisor", err)
		} else {
			cfg := *chCfg
			cfg.APISocket = path
			f.ch = &chSource{cfg: cfg, root: &root}
		}
	}
	return f
}

// findFirecracker sets up the metrics file and the API socket a Firecracker's command line
// names (nil if neither).
func (s *scraperImpl) findFirecracker(cmdline []byte, root vmmargs.Root, cfg FirecrackerSource, failed func(string, error)) *fcSource {
	fc := &fcSource{cfg: cfg}
	if path, err := s.firecrackerMetricsPath(cmdline, root); err != nil {
		failed("vm.firecracker", err)
	} else {
		fc.cfg.MetricsPath = path
		fc.src = firecracker.NewSource(path, firecracker.NewAccumulator(firecracker.Limits{MaxLineBytes: cfg.MaxLineBytes}))
		fc.src.MaxReadBytes = cfg.MaxReadBytes
		fc.src.Open, fc.src.Stat = root.Open, root.Stat
	}
	if !cfg.NoAPI {
		if sock, err := vmmargs.FirecrackerAPISocket(cmdline); err != nil {
			failed("vm.firecracker API", err)
		} else {
			fc.cfg.APISocket = sock
			fc.api = &fcAPI{socket: sock, timeout: cfg.Timeout, root: &root}
		}
	}
	if fc.src == nil && fc.api == nil {
		return nil
	}
	return fc
}

// firecrackerMetricsPath is --metrics-path, else the metrics_path of --config-file (read
// inside the VMM's root). Firecracker refuses to start with both: it initialises its metrics
// from the argument first and then fails on the file's (src/firecracker/src/main.rs and
// src/vmm/src/resources.rs VmResources::from_json, commit 81b38b9d). The inventory read the
// same file for the VM's size when it matched the process; this is the second and last read,
// once per VMM process, only with discovery on.
func (s *scraperImpl) firecrackerMetricsPath(cmdline []byte, root vmmargs.Root) (string, error) {
	path, err := vmmargs.FirecrackerMetricsPath(cmdline)
	if !errors.Is(err, vmmargs.ErrNotNamed) {
		return path, err
	}
	file, err := vmmargs.FirecrackerConfigFile(cmdline)
	if err != nil {
		return "", err
	}
	data, err := root.ReadFile(file, vmmargs.MaxFirecrackerConfig)
	if err != nil {
		return "", fmt.Errorf("--config-file: %w", err)
	}
	c, err := vmmargs.ParseFirecrackerConfig(data)
	if err != nil {
		return "", fmt.Errorf("--config-file %s: %w", file, err)
	}
	if c.MetricsPath == "" {
		return "", fmt.Errorf("--config-file %s has no metrics block: %w", file, vmmargs.ErrNotNamed)
	}
	return c.MetricsPath, nil
}

// socketOfDescriptor finds the path of the listening socket a VMM was handed as a descriptor
// (--api-socket fd=<n>): the socket inode of <proc>/<pid>/fd/<n>, looked up in the VMM's
// own net/unix. The path is the one the socket was bound to, by whoever bound it; it is
// connected inside the VMM's root, with the owner check of any socket found there.
func (s *scraperImpl) socketOfDescriptor(p *inventory.Process, d *vmmargs.DescriptorError) (string, error) {
	link, err := s.r.Readlink(p.Dir + "fd/" + strconv.Itoa(d.FD))
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.Error(), err)
	}
	ino, err := vmmargs.SocketInode(link)
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.Error(), err)
	}
	table, err := s.r.Read(p.Dir + "net/unix")
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.Error(), err)
	}
	path, err := vmmargs.UnixSocketPath(table, ino)
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.Error(), err)
	}
	return path, nil
}

// vmmBinary is the instance's process the catalog matched as the VMM itself, whose command
// line names its sources (not a jailer still around it, whose arguments after "--" are the
// VMM's but relative to a chroot not yet entered), else vmmProcess.
func vmmBinary(in *inventory.Instance) *inventory.Process {
	for i := range in.Procs {
		if e := in.Procs[i].Matched; e != nil && e.Name == in.Identity.VMM {
			return &in.Procs[i]
		}
	}
	return vmmProcess(in)
}
