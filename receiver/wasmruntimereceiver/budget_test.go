package wasmruntimereceiver

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadBudget guards the cost model: at default settings a steady-state scrape makes at most
// 8 file reads per single-process cgroup instance on v2, its discovery read of /proc/<pid>/stat
// included, and 9 on v1 when a CPU quota is set (v1 keeps throttling in cpu.stat apart from
// cpuacct.stat); identity and limit files are not re-read.
func TestReadBudget(t *testing.T) {
	for _, tc := range []struct {
		root string
		pid  int
		max  int
	}{
		{"v2-kubepods-systemd-runwasi", 901, 8},
		{"hybrid-libvirt-qemu", 3100, 9},
	} {
		t.Run(tc.root, func(t *testing.T) {
			root, err := filepath.Abs(rootDir(tc.root))
			require.NoError(t, err)
			cfg := testConfig()
			cfg.RootPath = root
			s := newTestScraper(t, cfg)
			scrapeOnce(t, s)
			scrapeOnce(t, s)
			var ops []traceOp
			s.r.trace = &ops
			scrapeOnce(t, s)
			s.r.trace = nil

			in := s.instances[0]
			for _, x := range s.instances {
				if s.procs[x.main].e.pid == tc.pid {
					in = x
				}
			}
			require.Equal(t, tc.pid, s.procs[in.main].e.pid)
			procDir := filepath.Join(root, "proc", fmt.Sprint(tc.pid)) + "/"
			var mine []string
			for _, op := range ops {
				if strings.HasPrefix(op.path, procDir) || strings.Contains(op.path, in.key+"/") {
					mine = append(mine, op.path)
				}
			}
			assert.LessOrEqual(t, len(mine), tc.max, "reads for instance %s: %v", in.key, mine)
			for _, p := range mine {
				for _, identity := range []string{"cmdline", "exe", "/cgroup", "limits", "cpu.max", "memory.max", "pids.max", "cfs_quota_us", "limit_in_bytes", "cgroup.procs"} {
					assert.False(t, strings.HasSuffix(p, identity), "%s re-read in a steady-state scrape", p)
				}
			}
			t.Logf("%d reads: %v", len(mine), mine)
		})
	}
}
