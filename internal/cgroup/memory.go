package cgroup

// MemoryStat is what otelcol-virt takes from memory.stat (v2 keys, or v1 hierarchical totals).
type MemoryStat struct {
	Anon, File, InactiveFile uint64
	// PgFault and PgMajFault count page faults (all, and major) of the cgroup and its
	// descendants, exited tasks included.
	PgFault, PgMajFault uint64
	HasFaults           bool
	// HierarchicalLimit and HierarchicalMemswLimit are v1's effective limits, the tightest
	// memory.limit_in_bytes (memory.memsw.limit_in_bytes) on the path to the root; zero when
	// the file has no such key (v2, or a kernel without swap accounting).
	HierarchicalLimit, HierarchicalMemswLimit uint64
}

// ParseMemoryStat parses v2 memory.stat (anon, file, inactive_file, pgfault, pgmajfault) or v1
// memory.stat (total_rss, total_cache, total_inactive_file, total_pgfault, total_pgmajfault,
// hierarchical_memory_limit, hierarchical_memsw_limit; the non-total keys cover the cgroup
// alone and are ignored).
func ParseMemoryStat(data []byte) (MemoryStat, error) {
	var s MemoryStat
	n := 0
	err := scanKV("memory.stat", data, func(k []byte, v uint64) {
		switch string(k) {
		case "anon", "total_rss":
			s.Anon = v
		case "file", "total_cache":
			s.File = v
		case "inactive_file", "total_inactive_file":
			s.InactiveFile = v
		case "pgfault", "total_pgfault":
			s.PgFault, s.HasFaults = v, true
		case "pgmajfault", "total_pgmajfault":
			s.PgMajFault = v
		case "hierarchical_memory_limit":
			s.HierarchicalLimit = v
		case "hierarchical_memsw_limit":
			s.HierarchicalMemswLimit = v
		default:
			return
		}
		n++
	})
	if err == nil && n == 0 {
		err = malformed("memory.stat", "no anon/file key")
	}
	return s, err
}

// MemoryEvents holds OOM counters: v2 memory.events (oom, oom_kill) or v1 memory.oom_control
// (oom_kill, under_oom; v1 has no oom count).
type MemoryEvents struct {
	OOM, OOMKill uint64
	HasOOM       bool
	UnderOOM     bool
}

// ParseMemoryEvents parses v2 memory.events or v1 memory.oom_control.
func ParseMemoryEvents(data []byte) (MemoryEvents, error) {
	var e MemoryEvents
	n := 0
	err := scanKV("memory.events", data, func(k []byte, v uint64) {
		switch string(k) {
		case "oom":
			e.OOM, e.HasOOM = v, true
		case "oom_kill":
			e.OOMKill = v
		case "under_oom":
			e.UnderOOM = v != 0
		case "max", "high", "low", "oom_group_kill", "oom_kill_disable", "sock_throttled":
		default:
			return
		}
		n++
	})
	if err == nil && n == 0 {
		err = malformed("memory.events", "no known key")
	}
	return e, err
}
