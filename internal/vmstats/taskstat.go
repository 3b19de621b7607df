package vmstats

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// UserHZ is the unit of the times in /proc/<pid>/stat: USER_HZ is 100 on every architecture
// Go runs Linux on (include/asm-generic/param.h), whatever the kernel's HZ.
const UserHZ = 100

// TaskCPU is the CPU part of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat (proc(5)).
// Times are in clock ticks (UserHZ).
type TaskCPU struct {
	// UTime includes GuestTime: the kernel charges time in guest mode to both
	// (kernel/sched/cputime.c, account_guest_time), so the VMM's own user time is
	// UTime - GuestTime.
	UTime, STime uint64
	// GuestTime (field 43) is time spent running a guest's vCPU; CGuestTime (44) the same
	// for waited-for children.
	GuestTime, CGuestTime uint64
	// Processor (39) is the host CPU the task last ran on.
	Processor int
	// Flags (9) are the task's PF_* flags (include/linux/sched.h).
	Flags uint64
	State byte
}

// VMMUserTime is the user time of the VMM itself, guest time excluded. A guest time ahead
// of user time (the two are sampled separately) reads as zero rather than wrapping.
func (t TaskCPU) VMMUserTime() uint64 {
	if t.GuestTime > t.UTime {
		return 0
	}
	return t.UTime - t.GuestTime
}

// ParseTaskStat parses a stat file. It needs the guest fields (Linux 2.6.24 and later);
// comm is returned aliasing data.
func ParseTaskStat(data []byte) (TaskCPU, []byte, error) {
	var t TaskCPU
	open := bytes.IndexByte(data, '(')
	if open < 1 {
		return t, nil, malformed("stat", "no (comm)")
	}
	// comm may hold ')': the last ')' ends it. comm is at most 64 bytes (TASK_COMM_LEN 16;
	// a workqueue worker's name, fs/proc/array.c proc_task_name, up to 64) and the numeric
	// fields after it hold none, so the last ')' within 80 bytes of '(' is the one; looking
	// only there keeps the search off the 300 bytes that follow.
	closing := bytes.LastIndexByte(data[open:min(len(data), open+80)], ')')
	if closing >= 0 {
		closing += open
	}
	if closing < open {
		return t, nil, malformed("stat", "no (comm)")
	}
	if _, ok := bytesparse.Atou(bytes.TrimSpace(data[:open])); !ok {
		return t, nil, malformed("stat", "bad pid")
	}
	comm := data[open+1 : closing]
	rest := data[closing+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	rest = bytes.TrimSuffix(rest, []byte{'\n'})
	// Fields are numbered from 3 (state) as in proc(5), one space apart. The ones needed sit
	// at both ends (3..15 and 39..44 of about 52), so the line is walked forward to 15 and
	// backward from its last field to 39, and the ~150 bytes between are only counted
	// (bytes.Count and bytes.Index run vectorized): this parse costs a fraction of its pread.
	if len(rest) == 0 || rest[0] == ' ' || rest[len(rest)-1] == ' ' || bytes.Contains(rest, []byte("  ")) || bytes.IndexByte(rest, '\n') >= 0 {
		return t, nil, malformed("stat", "fields not single-space separated")
	}
	last := 2 + bytes.Count(rest, []byte{' '}) + 1 // number of the last field
	if last < 44 {
		return t, nil, malformed("stat", "%d fields, want 44", last)
	}
	var bad int
	set := func(field int, f []byte) {
		if field == 3 {
			if len(f) != 1 {
				bad = field
			}
			t.State = f[0]
			return
		}
		v, ok := bytesparse.Atou(f)
		if !ok {
			bad = field
			return
		}
		switch field {
		case 9:
			t.Flags = v
		case 14:
			t.UTime = v
		case 15:
			t.STime = v
		case 39:
			if v > 1<<20 {
				bad = field
			}
			t.Processor = int(v)
		case 43:
			t.GuestTime = v
		case 44:
			t.CGuestTime = v
		}
	}
	// Forward: fields 3 to 15.
	start := 0
	for field := 3; field <= 15; field++ {
		end := start + bytes.IndexByte(rest[start:], ' ')
		if field == 3 || field == 9 || field == 14 || field == 15 {
			set(field, rest[start:end])
		}
		start = end + 1
	}
	// Backward: from the last field to 39.
	end := len(rest)
	for field := last; field >= 39; field-- {
		begin := bytes.LastIndexByte(rest[:end], ' ') + 1
		if field == 39 || field == 43 || field == 44 {
			set(field, rest[begin:end])
		}
		end = begin - 1
	}
	if bad != 0 {
		return t, nil, malformed("stat", "bad field %d", bad)
	}
	return t, comm, nil

}

// Schedstat is /proc/<pid>/task/<tid>/schedstat: time on a CPU, time waiting on a run queue
// (what a guest sees as steal; libvirt's vcpu.<n>.delay), and the number of timeslices run.
// Times are in nanoseconds.
type Schedstat struct {
	RunNS, WaitNS, Timeslices uint64
}

// ParseSchedstat parses the three numbers of a schedstat file (kernel/sched/stats.c).
func ParseSchedstat(data []byte) (Schedstat, error) {
	// The kernel writes "%llu %llu %lu\n" (proc_pid_schedstat, fs/proc/base.c): that form is
	// scanned in one pass; anything else takes the general parser, which tells what is wrong.
	var v [3]uint64
	i := 0
	for k := range v {
		var ok bool
		if v[k], i, ok = bytesparse.ScanUint(data, i); !ok {
			break
		}
		if k == 2 && (i == len(data) || i == len(data)-1 && data[i] == '\n') {
			return Schedstat{RunNS: v[0], WaitNS: v[1], Timeslices: v[2]}, nil
		}
		if i == len(data) || data[i] != ' ' {
			break
		}
		i++
	}
	return parseSchedstatFields(data)
}

func parseSchedstatFields(data []byte) (Schedstat, error) {
	var s Schedstat
	var buf [4][]byte
	f := bytesparse.Fields(buf[:0], bytes.TrimRight(data, "\n"))
	if len(f) != 3 {
		return s, malformed("schedstat", "%d fields, want 3", len(f))
	}
	var ok [3]bool
	s.RunNS, ok[0] = bytesparse.Atou(f[0])
	s.WaitNS, ok[1] = bytesparse.Atou(f[1])
	s.Timeslices, ok[2] = bytesparse.Atou(f[2])
	if !ok[0] || !ok[1] || !ok[2] {
		return s, malformed("schedstat", "bad number in %q", data)
	}
	return s, nil
}
