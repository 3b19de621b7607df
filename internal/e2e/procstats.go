package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it is 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// ProcStats is a snapshot of one process taken from /proc.
type ProcStats struct {
	// RSSBytes is the current resident set (VmRSS); PeakRSSBytes the high-water mark (VmHWM).
	RSSBytes     int64
	PeakRSSBytes int64
	// CPUSeconds is user plus system time consumed so far.
	CPUSeconds float64
	// Threads is the number of OS threads.
	Threads int
	// FDs is the number of open file descriptors.
	FDs int
}

// ReadProcStats reads the stats of pid from /proc.
func ReadProcStats(pid int) (ProcStats, error) {
	var s ProcStats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch key {
		case "VmRSS":
			s.RSSBytes = n * 1024
		case "VmHWM":
			s.PeakRSSBytes = n * 1024
		case "Threads":
			s.Threads = int(n)
		}
	}
	if s.CPUSeconds, err = CPUSeconds(pid); err != nil {
		return s, err
	}
	if s.FDs, err = FDCount(pid); err != nil {
		return s, err
	}
	return s, nil
}

// CPUSeconds returns the user plus system CPU time pid has used, from /proc/<pid>/stat.
func CPUSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// comm (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, raw)
	}
	fields := strings.Fields(string(raw[i+1:]))
	// After comm: state(3) ppid(4) ... utime(14) stime(15); fields[0] is state.
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after comm", pid, len(fields))
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, fields[11], fields[12])
	}
	return float64(utime+stime) / clockTicks, nil
}

// ThreadCPUSeconds returns the CPU time pid's live threads have used, in nanosecond resolution:
// the sum of the first field of /proc/<pid>/task/<tid>/schedstat, the scheduler's
// sum_exec_runtime (Documentation/scheduler/sched-stats.rst). /proc/<pid>/stat counts in clock
// ticks (10 ms), too coarse for a run that uses 100 ms; the time of threads that exited is not
// in this sum, which suits a Go process (its runtime keeps its threads).
func ThreadCPUSeconds(pid int) (float64, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var ns uint64
	for _, t := range tasks {
		raw, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // exited since the listing
		}
		f := strings.Fields(string(raw))
		if len(f) < 1 {
			return 0, fmt.Errorf("%s/%s/schedstat: %q", dir, t.Name(), raw)
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		ns += v
	}
	return float64(ns) / 1e9, nil
}

// FDCount returns the number of open file descriptors of pid.
func FDCount(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

// OpenFilesForWriting lists the files pid has open with write access, from /proc/<pid>/fdinfo
// flags (O_WRONLY or O_RDWR). Sockets, pipes and anonymous inodes are left out.
func OpenFilesForWriting(pid int) ([]string, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(target, "/") {
			continue // closed meanwhile, or socket:[..], pipe:[..], anon_inode:..
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
				if err == nil && flags&0o3 != 0 { // O_WRONLY=1, O_RDWR=2
					out = append(out, target)
				}
			}
		}
	}
	return out, nil
}

// Metrics is one scrape of a Prometheus text endpoint: the sum over all series of each metric
// name, labels ignored.
type Metrics map[string]float64

// ScrapeMetrics fetches http://<endpoint>/metrics (the collector's own telemetry, see
// Options.TelemetryEndpoint) and sums every series by metric name.
func ScrapeMetrics(endpoint string) (Metrics, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+endpoint+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: %s", endpoint, resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics parses the Prometheus text format, summing series by name.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		rest := ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
			rest = line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		m[name] += v
	}
	return m, sc.Err()
}

// Get returns the value of the first name present (names change between collector releases,
// e.g. with or without the _total suffix), and whether any was.
func (m Metrics) Get(names ...string) (float64, bool) {
	for _, n := range names {
		if v, ok := m[n]; ok {
			return v, true
		}
	}
	return 0, false
}

// GoroutineCount reads the number of goroutines from the pprof extension's goroutine profile
// at endpoint (host:port): the collector's own telemetry does not export it.
func GoroutineCount(endpoint string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+endpoint+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	// "goroutine profile: total 123"
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile header %q", line)
	}
	return strconv.Atoi(v)
}
