package wasmruntimereceiver

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// VMConfig is the `vm:` section: VM-grade figures of the VM and micro-VM instances the
// inventory found (see documentation.md). The procfs part (per vCPU, guest against VMM CPU,
// taps, the VMM's I/O) is on; every source that reads something a VMM or hypervisor serves is
// opt-in and bounded, as a VMM can be taken over by its guest.
type VMConfig struct {
	// Enabled reads the vCPU threads, taps and /proc/<pid>/io of each VM instance's VMM.
	Enabled bool `mapstructure:"enabled"`
	// MaxVMs bounds the VM instances read per scrape (0: 1024); the rest keep their other
	// metrics and are counted as skipped in the log.
	MaxVMs int `mapstructure:"max_vms"`
	// KVMDebugfs reads KVM's per-VM statistics (exits, halt polling) from debugfs: root,
	// debugfs mounted, no kernel lockdown.
	KVMDebugfs KVMDebugfsConfig `mapstructure:"kvm_debugfs"`
	// Firecracker are metrics files or FIFOs of Firecracker VMMs (--metrics-path, or what the
	// jailer or orchestrator configured) and their API sockets (the VM's state, and its size
	// when it was configured through the API). An entry with neither metrics_path nor
	// api_socket discovers them on each Firecracker instance's command line (or the one of its
	// vm_id): --metrics-path or a --config-file with a metrics block, and --api-sock (or
	// Firecracker's default socket) unless no_api.
	Firecracker []FirecrackerSource `mapstructure:"firecracker"`
	// CloudHypervisor are API sockets of Cloud Hypervisor VMMs, read for vm.counters. An entry
	// without api_socket discovers them: each Cloud Hypervisor instance (or the one of its
	// vm_id) whose command line names --api-socket (a path, or fd=<n>: the path that socket
	// is bound to).
	CloudHypervisor []CloudHypervisorSource `mapstructure:"cloud_hypervisor"`
	// QEMUQMP are QMP sockets of qemu VMMs, asked for KVM's per-vCPU statistics (query-stats,
	// QEMU 7.1 and later): the exits and halt polling of vm.kvm_debugfs without debugfs, and
	// under kernel lockdown. An entry without socket discovers them: each qemu instance (or
	// the one of its vm_id) whose command line serves a QMP monitor on a Unix socket.
	QEMUQMP []QEMUQMPSource `mapstructure:"qemu_qmp"`
	// Libvirt reads the domain statistics of libvirtd.
	Libvirt LibvirtConfig `mapstructure:"libvirt"`
	// Xen reports one instance per Xen domain, from `xl list -v` in dom0.
	Xen XenConfig `mapstructure:"xen"`

	_ struct{}
}

// KVMDebugfsConfig is vm::kvm_debugfs.
type KVMDebugfsConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Path is KVM's debugfs directory (default /sys/kernel/debug/kvm).
	Path string `mapstructure:"path"`
}

// FirecrackerSource is one vm::firecracker entry.
type FirecrackerSource struct {
	// MetricsPath is the metrics file or FIFO, as the collector sees it; empty: the path on
	// each Firecracker instance's command line, resolved inside that VMM's root.
	MetricsPath string `mapstructure:"metrics_path"`
	// VMID is the instance the counters belong to (its wasm_runtime.vm.id, the jailer --id);
	// empty: the Firecracker instance whose command line names metrics_path.
	VMID string `mapstructure:"vm_id"`
	// MaxLineBytes bounds one line (0: 256 KiB); longer ones are dropped and counted.
	MaxLineBytes int `mapstructure:"max_line_bytes"`
	// MaxReadBytes bounds what one scrape reads (0: 1 MiB); a backlog is caught up over
	// several scrapes.
	MaxReadBytes int `mapstructure:"max_read_bytes"`
	// APISocket is the VMM's API socket, asked for GET / (state) at every scrape and GET
	// /machine-config (vCPUs, memory) until the VM has started; empty in a discovering entry:
	// the one on the command line.
	APISocket string `mapstructure:"api_socket"`
	// NoAPI leaves the API socket alone (the size then comes only from the command line or
	// --config-file, and no state is reported).
	NoAPI bool `mapstructure:"no_api"`
	// Timeout bounds the requests of one scrape to the API socket (0: 2s).
	Timeout time.Duration `mapstructure:"timeout"`
}

// discovers reports an entry that finds its paths on the command lines.
func (f *FirecrackerSource) discovers() bool { return f.MetricsPath == "" && f.APISocket == "" }

// CloudHypervisorSource is one vm::cloud_hypervisor entry.
type CloudHypervisorSource struct {
	// APISocket is the VMM's --api-socket path; empty: the path on each Cloud Hypervisor
	// instance's command line, resolved inside that VMM's root.
	APISocket string `mapstructure:"api_socket"`
	// VMID is the instance the counters belong to; empty: the Cloud Hypervisor instance
	// whose command line names api_socket.
	VMID string `mapstructure:"vm_id"`
	// Timeout bounds one request (0: 2s).
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxBodyBytes bounds the answer (0: 1 MiB); a larger one is refused whole.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
}

// QEMUQMPSource is one vm::qemu_qmp entry.
type QEMUQMPSource struct {
	// Socket is the monitor's socket as the collector sees it; empty: the one on each qemu
	// instance's command line, resolved inside that VMM's root.
	Socket string `mapstructure:"socket"`
	// VMID is the instance the statistics belong to; empty: the qemu instance whose command
	// line names socket.
	VMID string `mapstructure:"vm_id"`
	// Timeout bounds one scrape's exchange (0: 2s). A monitor serves one client at a time:
	// another client (a management tool) waits for at most this long.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxLineBytes bounds one line of the monitor (0: 1 MiB); a longer answer is refused.
	MaxLineBytes int `mapstructure:"max_line_bytes"`
}

// LibvirtConfig is vm::libvirt.
type LibvirtConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Socket is libvirtd's socket (default /var/run/libvirt/libvirt-sock).
	Socket string `mapstructure:"socket"`
	// Timeout bounds the dial (0: 2s).
	Timeout time.Duration `mapstructure:"timeout"`
}

// XenConfig is vm::xen.
type XenConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// XLPath is the xl tool (default xl, looked up in PATH).
	XLPath string `mapstructure:"xl_path"`
	// Timeout bounds one `xl list -v` (0: 5s).
	Timeout time.Duration `mapstructure:"timeout"`
}

const (
	defaultMaxVMs        = 1024
	maxFirecrackerLine   = 16 << 20
	maxVMMSourceBody     = 64 << 20
	defaultKVMDebugfsDir = "/sys/kernel/debug/kvm"
)

func defaultVMConfig() VMConfig {
	return VMConfig{Enabled: true, KVMDebugfs: KVMDebugfsConfig{Path: defaultKVMDebugfsDir}}
}

func (c *VMConfig) maxVMs() int {
	if c.MaxVMs == 0 {
		return defaultMaxVMs
	}
	return c.MaxVMs
}

// validate names the field and the fix in every error; interval bounds the timeouts (a
// source must answer within one collection).
func (c *VMConfig) validate(interval time.Duration) []error {
	var errs []error
	abs := func(field, v, example string) {
		if v != "" && !filepath.IsAbs(v) {
			errs = append(errs, fmt.Errorf("%s: must be an absolute path, got %q (e.g. %s)", field, v, example))
		}
	}
	timeout := func(field string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: must be 0 (the default) or positive, got %s", field, d))
		} else if interval > 0 && d >= interval {
			errs = append(errs, fmt.Errorf("%s: %s is not shorter than collection_interval %s; lower it so that a stuck source cannot stall the next collection", field, d, interval))
		}
	}
	if c.MaxVMs < 0 {
		errs = append(errs, fmt.Errorf("vm.max_vms: must be 0 (%d) or positive, got %d", defaultMaxVMs, c.MaxVMs))
	}
	abs("vm.kvm_debugfs.path", c.KVMDebugfs.Path, defaultKVMDebugfsDir)
	seen := map[string]string{}
	dup := func(field, v string) {
		if prev, ok := seen[v]; ok {
			errs = append(errs, fmt.Errorf("%s: %q is already read by %s; list each source once", field, v, prev))
		}
		seen[v] = field
	}
	// An entry without its path discovers it for each instance of its vm_id (empty: all).
	discovering := map[string]string{}
	discovery := func(field, path, kind, vmID string) {
		if prev, ok := discovering[kind+"\x00"+vmID]; ok {
			errs = append(errs, fmt.Errorf("%s: %s, like it, has no %s and the same vm_id %q; keep one entry (it discovers the path of every matching instance)", field, prev, path, vmID))
		}
		discovering[kind+"\x00"+vmID] = field
	}
	for i, f := range c.Firecracker {
		field := fmt.Sprintf("vm.firecracker[%d]", i)
		abs(field+".metrics_path", f.MetricsPath, "/run/firecracker/vm1/metrics.fifo")
		abs(field+".api_socket", f.APISocket, "/run/firecracker/vm1/api.sock")
		if f.MetricsPath != "" {
			dup(field+".metrics_path", f.MetricsPath)
		}
		if f.APISocket != "" {
			dup(field+".api_socket", f.APISocket)
			if f.NoAPI {
				errs = append(errs, fmt.Errorf("%s: no_api is set and api_socket %q too; drop one", field, f.APISocket))
			}
		}
		if f.discovers() {
			discovery(field, "metrics_path or api_socket", "fc", f.VMID)
		}
		timeout(field+".timeout", f.Timeout)
		if f.MaxLineBytes < 0 || f.MaxLineBytes > maxFirecrackerLine {
			errs = append(errs, fmt.Errorf("%s.max_line_bytes: must be between 0 (256 KiB) and %d, got %d", field, maxFirecrackerLine, f.MaxLineBytes))
		}
		if f.MaxReadBytes < 0 || f.MaxReadBytes > maxVMMSourceBody {
			errs = append(errs, fmt.Errorf("%s.max_read_bytes: must be between 0 (1 MiB) and %d, got %d", field, maxVMMSourceBody, f.MaxReadBytes))
		}
	}
	for i, ch := range c.CloudHypervisor {
		field := fmt.Sprintf("vm.cloud_hypervisor[%d]", i)
		abs(field+".api_socket", ch.APISocket, "/run/cloud-hypervisor/vm1.sock")
		if ch.APISocket != "" {
			dup(field+".api_socket", ch.APISocket)
		} else {
			discovery(field, "api_socket", "ch", ch.VMID)
		}
		timeout(field+".timeout", ch.Timeout)
		if ch.MaxBodyBytes < 0 || ch.MaxBodyBytes > maxVMMSourceBody {
			errs = append(errs, fmt.Errorf("%s.max_body_bytes: must be between 0 (1 MiB) and %d, got %d", field, maxVMMSourceBody, ch.MaxBodyBytes))
		}
	}
	for i, q := range c.QEMUQMP {
		field := fmt.Sprintf("vm.qemu_qmp[%d]", i)
		abs(field+".socket", q.Socket, "/var/run/qemu-server/104.qmp")
		if q.Socket != "" {
			dup(field+".socket", q.Socket)
		} else {
			discovery(field, "socket", "qmp", q.VMID)
		}
		timeout(field+".timeout", q.Timeout)
		if q.MaxLineBytes < 0 || q.MaxLineBytes > maxVMMSourceBody {
			errs = append(errs, fmt.Errorf("%s.max_line_bytes: must be between 0 (1 MiB) and %d, got %d", field, maxVMMSourceBody, q.MaxLineBytes))
		}
	}
	abs("vm.libvirt.socket", c.Libvirt.Socket, "/var/run/libvirt/libvirt-sock")
	timeout("vm.libvirt.timeout", c.Libvirt.Timeout)
	if p := c.Xen.XLPath; p != "" && strings.Contains(p, "/") && !filepath.IsAbs(p) {
		errs = append(errs, fmt.Errorf("vm.xen.xl_path: must be a command name looked up in PATH or an absolute path, got %q (e.g. /usr/sbin/xl)", p))
	}
	timeout("vm.xen.timeout", c.Xen.Timeout)
	return errs
}
