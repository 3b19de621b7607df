package vmstats

import (
	"bytes"
	"errors"
	"io/fs"
	"runtime"
	"slices"
	"strconv"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// VCPUThread is a vCPU thread of a VMM, with the paths read at every scrape built once.
type VCPUThread struct {
	Index int
	TID   int
	// By is how the thread was recognized.
	By VMM

	statPath, schedstatPath string
}

// PF_* flags of include/linux/sched.h marking threads that are not the VMM's own.
const (
	pfIOWorker   = 0x00000010
	pfUserWorker = 0x00004000
	pfKthread    = 0x00200000
)

// kvmRun is KVM_RUN, _IO(KVMIO, 0x80) with KVMIO 0xAE (include/uapi/linux/kvm.h).
const kvmRun = 0xae80

// sysIoctl is the ioctl syscall number of the architecture the collector runs on, which is
// the VMM's (a collector does not read another architecture's /proc).
var sysIoctl = map[string]uint64{"amd64": 16, "arm64": 29, "riscv64": 29, "s390x": 54, "ppc64le": 54}[runtime.GOARCH]

// DiscoverVCPUs finds the vCPU threads of the VMM process pid under procRoot ("/proc"),
// sorted by index. Threads named by their VMM (VCPUIndex) win; when none is named (QEMU
// without debug-threads=on, an unknown VMM) a thread is a vCPU when it is blocked in
// ioctl(fd, KVM_RUN) on a "kvm-vcpu:<n>" descriptor of the process, read from
// /proc/<pid>/task/<tid>/syscall (needs the ptrace access root has). A vCPU thread that is
// running guest code at that instant reads "running" and is found at a later discovery:
// callers rediscover while fewer threads than vCPUs were found.
func DiscoverVCPUs(r *linuxfs.Reader, procRoot string, pid int, dst []VCPUThread) ([]VCPUThread, error) {
	dst = dst[:0]
	base := procRoot + "/" + strconv.Itoa(pid)
	tids, err := r.ListNames(base+"/task", nil)
	if err != nil {
		return dst, err
	}
	seen := map[int]bool{}
	for _, name := range tids {
		tid, err := strconv.Atoi(name)
		if err != nil || tid <= 0 {
			continue
		}
		task := base + "/task/" + name
		comm, err := r.Read(task + "/comm")
		if err != nil {
			continue // the thread exited
		}
		idx, vmm, ok := VCPUIndex(bytes.TrimSuffix(comm, []byte("\n")))
		if !ok || seen[idx] {
			continue
		}
		seen[idx] = true
		dst = append(dst, newVCPUThread(task, idx, tid, vmm))
	}
	if len(dst) == 0 {
		dst, err = discoverByKVMFd(r, base, tids, dst)
	}
	slices.SortFunc(dst, func(a, b VCPUThread) int { return a.Index - b.Index })
	return dst, err
}

func newVCPUThread(task string, idx, tid int, by VMM) VCPUThread {
	return VCPUThread{Index: idx, TID: tid, By: by, statPath: task + "/stat", schedstatPath: task + "/schedstat"}
}

func discoverByKVMFd(r *linuxfs.Reader, base string, tids []string, dst []VCPUThread) ([]VCPUThread, error) {
	fds, err := r.ListNames(base+"/fd", nil)
	if err != nil {
		return dst, err
	}
	vcpuOfFd := map[uint64]int{}
	for _, name := range fds {
		link, err := r.ReadlinkInto(base + "/fd/" + name)
		if err != nil {
			continue
		}
		if idx, ok := KVMVCPUFd(link); ok {
			if fd, err := strconv.ParseUint(name, 10, 32); err == nil {
				vcpuOfFd[fd] = idx
			}
		}
	}
	if len(vcpuOfFd) == 0 || sysIoctl == 0 {
		return dst, nil
	}
	var denied error
	for _, name := range tids {
		tid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		task := base + "/task/" + name
		data, err := r.Read(task + "/syscall")
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				denied = err
			}
			continue
		}
		sc, err := ParseSyscall(data)
		if err != nil || sc.Running || sc.Nr != sysIoctl || sc.Args[1] != kvmRun {
			continue
		}
		// A kernel worker of the process (KVM's "kvm-nx-lpage-recovery" is a vhost_task
		// since Linux 6.13) never returned to user space and shows the registers it was
		// copied from: the ioctl of the vCPU thread that created it. Skip such threads.
		if st, err := r.Read(task + "/stat"); err != nil {
			continue
		} else if t, _, err := ParseTaskStat(st); err != nil || t.Flags&(pfIOWorker|pfUserWorker|pfKthread) != 0 {
			continue
		}
		if idx, ok := vcpuOfFd[sc.Args[0]]; ok {
			dst = append(dst, newVCPUThread(task, idx, tid, VMMKVMFd))
			delete(vcpuOfFd, sc.Args[0])
		}
	}
	if len(dst) == 0 && denied != nil {
		return dst, denied
	}
	return dst, nil
}

// Syscall is /proc/<pid>/task/<tid>/syscall: the system call a blocked thread is in.
type Syscall struct {
	// Running is set when the thread was on a CPU (the file reads "running"); Nr is -1 as
	// uint64 when it is blocked outside a system call.
	Running bool
	Nr      uint64
	Args    [6]uint64
}

// ParseSyscall parses "nr arg0 ... arg5 sp pc" with hexadecimal arguments
// (fs/proc/base.c, proc_pid_syscall), "running", or "-1 sp pc".
func ParseSyscall(data []byte) (Syscall, error) {
	var s Syscall
	data = bytes.TrimRight(data, "\n")
	if string(data) == "running" {
		s.Running = true
		return s, nil
	}
	var buf [9][]byte
	f := bytesparse.Fields(buf[:0], data)
	if len(f) == 3 && string(f[0]) == "-1" {
		s.Nr = ^uint64(0)
		return s, nil
	}
	if len(f) != 9 {
		return s, malformed("syscall", "%d fields, want 9", len(f))
	}
	nr, ok := bytesparse.Atou(f[0])
	if !ok {
		return s, malformed("syscall", "bad number %q", f[0])
	}
	s.Nr = nr
	for i := range s.Args {
		hex, ok := bytes.CutPrefix(f[i+1], []byte("0x"))
		v, err := strconv.ParseUint(string(hex), 16, 64)
		if !ok || err != nil {
			return s, malformed("syscall", "bad argument %q", f[i+1])
		}
		s.Args[i] = v
	}
	return s, nil
}
