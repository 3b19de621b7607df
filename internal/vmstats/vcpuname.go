package vmstats

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// VMM names the thread-naming scheme a vCPU thread was recognized by.
type VMM uint8

const (
	VMMUnknown VMM = iota
	VMMQEMU
	VMMFirecracker
	VMMCloudHypervisor
	VMMCrosvm
	// VMMKVMFd marks a thread found through the kvm-vcpu:<n> descriptor it runs (see
	// DiscoverVCPUs), whatever the VMM.
	VMMKVMFd
)

func (v VMM) String() string {
	switch v {
	case VMMQEMU:
		return "qemu"
	case VMMFirecracker:
		return "firecracker"
	case VMMCloudHypervisor:
		return "cloud_hypervisor"
	case VMMCrosvm:
		return "crosvm"
	case VMMKVMFd:
		return "kvm_fd"
	}
	return "unknown"
}

// maxVCPUIndex bounds a vCPU index read from a thread name: KVM_MAX_VCPUS is 4096 on x86
// (arch/x86/include/asm/kvm_host.h); anything larger is not a vCPU thread.
const maxVCPUIndex = 4096

// VCPUIndex recognizes a vCPU thread by its comm (at most 15 bytes, TASK_COMM_LEN - 1) and
// returns its vCPU index. Names, from each VMM's source:
//
//   - QEMU with -name ...,debug-threads=on: "CPU %d/KVM" (qemu/qemu accel/kvm/kvm-accel-ops.c,
//     kvm_start_vcpu_thread, commit 12d1a768bdfea6e27a3a829228840d72507613a1) and
//     "CPU %d/TCG" (accel/tcg/tcg-accel-ops-mttcg.c, mttcg_start_vcpu_thread, commit
//     017b2e7363629302da8ea5274e828bc8a8908a73). Single-threaded TCG runs every vCPU on one
//     "ALL CPUs/TCG" thread (tcg-accel-ops-rr.c), which has no per-vCPU figure and is not matched.
//   - Firecracker: "fc_vcpu {}" (firecracker-microvm/firecracker src/vmm/src/vstate/vcpu.rs,
//     Vcpu::start_threaded, commit 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab).
//   - Cloud Hypervisor: "vcpu{vcpu_id}" (cloud-hypervisor/cloud-hypervisor vmm/src/cpu.rs,
//     CpuManager::start_vcpu, commit ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4).
//   - crosvm: "crosvm_vcpu{cpu_id}" (google/crosvm src/crosvm/sys/linux/vcpu.rs, run_vcpu,
//     commit f1e797a68dada35cbafef8d0cfae36bacfaea85e).
func VCPUIndex(comm []byte) (int, VMM, bool) {
	var num []byte
	vmm := VMMUnknown
	switch {
	case bytes.HasPrefix(comm, []byte("CPU ")):
		rest := comm[4:]
		slash := bytes.IndexByte(rest, '/')
		if slash < 1 || slash == len(rest)-1 {
			return 0, vmm, false
		}
		num, vmm = rest[:slash], VMMQEMU
	case bytes.HasPrefix(comm, []byte("fc_vcpu ")):
		num, vmm = comm[8:], VMMFirecracker
	case bytes.HasPrefix(comm, []byte("crosvm_vcpu")):
		num, vmm = comm[11:], VMMCrosvm
	case bytes.HasPrefix(comm, []byte("vcpu")):
		num, vmm = comm[4:], VMMCloudHypervisor
	default:
		return 0, vmm, false
	}
	n, ok := bytesparse.Atou(num)
	if !ok || n >= maxVCPUIndex || (len(num) > 1 && num[0] == '0') {
		return 0, VMMUnknown, false
	}
	return int(n), vmm, true
}

// KVMVCPUFd recognizes the target of a /proc/<pid>/fd link to a vCPU descriptor,
// "anon_inode:kvm-vcpu:<n>" (virt/kvm/kvm_main.c, create_vcpu_fd), and returns n.
func KVMVCPUFd(link []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(link, []byte("anon_inode:kvm-vcpu:"))
	if !ok {
		return 0, false
	}
	n, ok := bytesparse.Atou(rest)
	if !ok || n >= maxVCPUIndex {
		return 0, false
	}
	return int(n), true
}

// IsKVMVMFd reports whether a descriptor link names a KVM VM ("anon_inode:kvm-vm").
func IsKVMVMFd(link []byte) bool { return string(link) == "anon_inode:kvm-vm" }
