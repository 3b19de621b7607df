package vmstats

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// KVMDebugfsDir is where KVM keeps one directory per VM, named "<pid>-<fd>" after the
// process that created it and its VM descriptor (virt/kvm/kvm_main.c,
// kvm_create_vm_debugfs: snprintf(dir_name, ..., "%d-%s", task_pid_nr(current), fdname)).
const KVMDebugfsDir = "/sys/kernel/debug/kvm"

// ErrLockdown explains an EPERM from a KVM statistics file: under kernel lockdown
// (integrity or confidentiality) debugfs refuses to open files that have write bits, which
// every KVM statistic has (fs/debugfs/file.c, debugfs_locked_down).
var ErrLockdown = errors.New("KVM debugfs statistics are refused under kernel lockdown (see /sys/kernel/security/lockdown)")

// KVMStats are the per-VM statistics of KVM (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD",
// and the kvm_vcpu_stat_generic fields of include/linux/kvm_types.h). The VM directory sums the
// statistics of its vCPUs.
type KVMStats struct {
	// Exits counts VM exits of every reason.
	Exits uint64
	// HaltExits counts exits on a guest HLT; HaltSuccessfulPoll and HaltAttemptedPoll count
	// halt polling (the vCPU spins a while before sleeping, see halt_poll_ns), and
	// HaltPollInvalid polls cut short.
	HaltExits, HaltSuccessfulPoll, HaltAttemptedPoll, HaltPollInvalid, HaltWakeup uint64
	// Nanoseconds spent polling that ended with a wake-up (success) or without one (fail),
	// and sleeping in halt.
	HaltPollSuccessNS, HaltPollFailNS, HaltWaitNS uint64
}

// kvmStatFiles are the files read per VM, in the order of kvmStatDst.
var kvmStatFiles = [...]string{
	"exits", "halt_exits", "halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid",
	"halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns", "halt_wait_ns",
}

// KVMStatNames are the statistics KVMStats holds, as KVM names them in debugfs and in its
// binary statistics (which QEMU's query-stats relays).
func KVMStatNames() []string { return kvmStatFiles[:] }

// Set stores the statistic of that name; it reports false for a name KVMStats does not hold.
func (s *KVMStats) Set(name string, v uint64) bool {
	for i, n := range kvmStatFiles {
		if n == name {
			*kvmStatDst(s)[i] = v
			return true
		}
	}
	return false
}

// Add sums o into s (a VM's statistics are its vCPUs').
func (s *KVMStats) Add(o *KVMStats) {
	dst, src := kvmStatDst(s), kvmStatDst(o)
	for i := range dst {
		*dst[i] += *src[i]
	}
}

func kvmStatDst(s *KVMStats) [len(kvmStatFiles)]*uint64 {
	return [...]*uint64{&s.Exits, &s.HaltExits, &s.HaltSuccessfulPoll, &s.HaltAttemptedPoll,
		&s.HaltPollInvalid, &s.HaltWakeup, &s.HaltPollSuccessNS, &s.HaltPollFailNS, &s.HaltWaitNS}
}

// KVMVM is one VM directory of KVM's debugfs.
type KVMVM struct {
	PID, FD int
	Dir     string
	paths   [len(kvmStatFiles)]string
}

// ParseKVMDirName parses "<pid>-<fd>"; KVM appends nothing else (the fd is a number).
func ParseKVMDirName(name string) (pid, fd int, ok bool) {
	p, f, found := bytes.Cut([]byte(name), []byte{'-'})
	if !found {
		return 0, 0, false
	}
	pp, ok1 := bytesparse.Atou(p)
	ff, ok2 := bytesparse.Atou(f)
	if !ok1 || !ok2 || pp == 0 || pp > 1<<22 || ff > 1<<31 {
		return 0, 0, false
	}
	return int(pp), int(ff), true
}

// DiscoverKVMVMs lists the VM directories of dir (KVMDebugfsDir), mapped to their VMM pids.
// One process can own several VMs (a VMM that recreated its VM); all are returned.
func DiscoverKVMVMs(r *linuxfs.Reader, dir string) ([]KVMVM, error) {
	names, err := r.ListNames(dir, nil)
	if err != nil {
		return nil, err
	}
	var vms []KVMVM
	for _, n := range names {
		pid, fd, ok := ParseKVMDirName(n)
		if !ok {
			continue
		}
		vm := KVMVM{PID: pid, FD: fd, Dir: dir + "/" + n}
		for i, s := range kvmStatFiles {
			vm.paths[i] = vm.Dir + "/" + s
		}
		vms = append(vms, vm)
	}
	return vms, nil
}

// ReadKVMStats reads the statistics of one VM. A missing file (an older kernel without
// halt_wait_ns) leaves its field zero; EPERM is reported as ErrLockdown.
func ReadKVMStats(r *linuxfs.Reader, vm *KVMVM) (KVMStats, error) {
	var s KVMStats
	dst := kvmStatDst(&s)
	read := 0
	for i, p := range vm.paths {
		data, err := r.ReadCached(p)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return s, fmt.Errorf("%s: %w", p, ErrLockdown)
			}
			if errors.Is(err, fs.ErrNotExist) && i > 0 {
				continue
			}
			return s, err
		}
		v, ok := bytesparse.Atou(bytes.TrimSpace(data))
		if !ok {
			return s, malformed(kvmStatFiles[i], "not a number: %q", data)
		}
		*dst[i] = v
		read++
	}
	return s, nil
}
