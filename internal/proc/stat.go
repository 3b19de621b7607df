package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// Stat is the part of /proc/<pid>/stat the receiver uses (see proc(5)).
type Stat struct {
	PID   int
	Comm  string // only set by ParseStat when keepComm is true; see CommBytes
	State byte
	PPID  int
	// MinFlt and MajFlt are page faults of the process itself; CMinFlt and CMajFlt those of
	// the children it waited for.
	MinFlt, MajFlt, CMinFlt, CMajFlt uint64
	// UTime and STime are CPU times in clock ticks (USER_HZ); CUTime and CSTime those of the
	// children it waited for (the kernel adds a child's times, its own reaped children's
	// included, when the parent reaps it).
	UTime, STime, CUTime, CSTime uint64
	// GuestTime is the time spent running a guest's vCPU (KVM), in clock ticks; 0 on kernels
	// that do not report it. CGuestTime is that of waited-for children.
	GuestTime, CGuestTime uint64
	NumThreads            int64
	// StartTime is the start time after boot in clock ticks; with PID it identifies a process
	// across pid reuse.
	StartTime uint64
	VSize     uint64 // bytes
	RSS       int64  // pages
}

// ParseStat parses /proc/<pid>/stat. comm is the raw executable name (it may contain spaces and
// parentheses, so the last ')' ends it); the returned slice aliases data.
func ParseStat(data []byte) (st Stat, comm []byte, err error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 1 || closing < open {
		return st, nil, malformed("stat", "no (comm)")
	}
	pid, ok := bytesparse.Atoi(bytes.TrimSpace(data[:open]))
	if !ok || pid <= 0 {
		return st, nil, malformed("stat", "bad pid %q", data[:open])
	}
	st.PID = int(pid)
	comm = data[open+1 : closing]
	// Fields after comm, numbered from 3 (state) as in proc(5).
	rest := data[closing+1:]
	var f [42][]byte // up to field 44 (cguest_time); 22 (up to rss) are required
	n := 0
	i := 0
	for n < len(f) && i < len(rest) {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\n') {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != ' ' && rest[j] != '\n' {
			j++
		}
		if j > i {
			f[n] = rest[i:j]
			n++
		}
		i = j
	}
	const required = 22
	if n < required {
		return st, nil, malformed("stat", "%d fields after comm, want at least %d", n, required)
	}
	field := func(k int) []byte { return f[k-3] }
	if len(field(3)) != 1 {
		return st, nil, malformed("stat", "bad state %q", field(3))
	}
	st.State = field(3)[0]
	var bad string
	u := func(k int, name string) uint64 {
		v, ok := bytesparse.Atou(field(k))
		if !ok && bad == "" {
			bad = name
		}
		return v
	}
	s := func(k int, name string) int64 {
		v, ok := bytesparse.Atoi(field(k))
		if !ok && bad == "" {
			bad = name
		}
		return v
	}
	st.PPID = int(s(4, "ppid"))
	st.MinFlt = u(10, "minflt")
	st.MajFlt = u(12, "majflt")
	st.CMinFlt = u(11, "cminflt")
	st.CMajFlt = u(13, "cmajflt")
	st.UTime = u(14, "utime")
	st.STime = u(15, "stime")
	// cutime and cstime are signed in proc(5) (long); the kernel never makes them negative.
	st.CUTime = uint64(max(0, s(16, "cutime")))
	st.CSTime = uint64(max(0, s(17, "cstime")))
	st.NumThreads = s(20, "num_threads")
	st.StartTime = u(22, "starttime")
	st.VSize = u(23, "vsize")
	st.RSS = s(24, "rss")
	if n >= 42 {
		st.GuestTime = u(43, "guest_time")
		st.CGuestTime = u(44, "cguest_time")
	}
	if bad != "" {
		return st, nil, malformed("stat", "bad %s", bad)
	}
	return st, comm, nil
}
