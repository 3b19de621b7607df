package virtdetect

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Process is what detection reads about one process: PID 1 (whoever the root's init is) or the
// detecting process itself.
type Process struct {
	Comm   string
	Env    map[string]string
	Cgroup []CgroupLine
}

// ReadProcess reads /proc/<pid>/{comm,environ,cgroup}; unreadable files stay empty (environ
// needs ptrace access to the process).
func ReadProcess(f FS, pid string) Process {
	dir := "/proc/" + pid + "/"
	p := Process{Comm: f.ReadString(dir + "comm")}
	if b, err := f.ReadFile(dir + "environ"); err == nil {
		p.Env = ParseEnviron(b)
	}
	if b, err := f.ReadFile(dir + "cgroup"); err == nil {
		p.Cgroup = ParseProcCgroup(b)
	}
	return p
}

// ProcStatus is what detection needs from /proc/<pid>/status.
type ProcStatus struct {
	PPid, TracerPid int
}

// ParseProcStatus reads the PPid and TracerPid lines; missing or malformed ones are 0.
func ParseProcStatus(b []byte) ProcStatus {
	var s ProcStatus
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			continue
		}
		switch k {
		case "PPid":
			s.PPid = n
		case "TracerPid":
			s.TracerPid = n
		}
	}
	return s
}

// maxAncestors bounds the walk up the process tree (a loop in a hostile /proc must end).
const maxAncestors = 32

// readAncestry walks from the detecting process to PID 1 and returns the parents' comm names,
// nearest first, and the comm of the process tracing it (proot's ptrace-based guest).
func readAncestry(f FS) (ancestors []string, tracer string) {
	b, err := f.ReadFile("/proc/self/status")
	if err != nil {
		return nil, ""
	}
	st := ParseProcStatus(b)
	if st.TracerPid > 0 {
		tracer = f.ReadString("/proc/" + strconv.Itoa(st.TracerPid) + "/comm")
	}
	seen := map[int]bool{}
	for pid := st.PPid; pid > 0 && len(ancestors) < maxAncestors && !seen[pid]; {
		seen[pid] = true
		dir := "/proc/" + strconv.Itoa(pid) + "/"
		ancestors = append(ancestors, f.ReadString(dir+"comm"))
		sb, err := f.ReadFile(dir + "status")
		if err != nil {
			break
		}
		pid = ParseProcStatus(sb).PPid
	}
	return ancestors, tracer
}

// Inode numbers of the initial namespaces, fixed by the kernel (PROC_PID_INIT_INO and
// PROC_CGROUP_INIT_INO in torvalds/linux include/linux/proc_ns.h): a process outside them was
// put in a new namespace by something, usually a container runtime.
const (
	initialPIDNamespace    = 0xEFFFFFFC
	initialCgroupNamespace = 0xEFFFFFFB
)

// ParseNamespaceLink parses a /proc/<pid>/ns/<type> link target such as "pid:[4026531836]".
func ParseNamespaceLink(target string) uint64 {
	_, rest, ok := strings.Cut(target, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// namespaceInode reads PID 1's namespace of the given type, falling back to the detecting
// process's own (PID 1's links need ptrace access, which a VM's init may refuse even to root).
func namespaceInode(f FS, typ string) uint64 {
	for _, pid := range []string{"1", "self"} {
		if n := ParseNamespaceLink(f.Readlink("/proc/" + pid + "/ns/" + typ)); n != 0 {
			return n
		}
	}
	return 0
}

// cgroupNamespaceHint is systemd's running_in_cgroupns (systemd/systemd src/basic/virt.c at
// 0099e5589762f2ef72d9c69b7e7032138d410979): on cgroup v2, the cgroup mounted at /sys/fs/cgroup
// has cgroup.events and cgroup.type, which the root cgroup lacks; on v1, the name=systemd
// hierarchy has release_agent only at its root.
func cgroupNamespaceHint(f FS) bool {
	if f.Exists("/sys/fs/cgroup/cgroup.controllers") {
		if !f.Exists("/sys/fs/cgroup/cgroup.events") {
			return false
		}
		return f.Exists("/sys/fs/cgroup/cgroup.type") || !f.Exists("/sys/kernel/cgroup/features")
	}
	return f.Exists("/sys/fs/cgroup/systemd") && !f.Exists("/sys/fs/cgroup/systemd/release_agent")
}
