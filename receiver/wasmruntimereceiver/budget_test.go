package wasmruntimereceiver

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadBudget pins the cost model in both directions: a steady-state scrape at default
// settings reads exactly these files for an instance, its inventory walk included. One more
// read is a cost regression; one fewer is a figure that stopped being read. Identity and limit
// files (cmdline, exe, /proc/<pid>/cgroup, limits, cpu.max, memory.max...) are not among them:
// they are cached for their refresh period.
func TestReadBudget(t *testing.T) {
	for _, tc := range []struct {
		root string
		pids []string
		want []string
	}{
		{"v2-kubepods-systemd-runwasi", []string{"901"}, []string{
			"proc/901/stat", "proc/901/fd",
			"sys/fs/cgroup" + runwasiScope + "/cgroup.procs",
			"sys/fs/cgroup" + runwasiScope + "/cpu.stat",
			"sys/fs/cgroup" + podSlice + "/cpu.stat", // throttling of the pod, which sets the quota
			"sys/fs/cgroup" + runwasiScope + "/memory.current",
			"sys/fs/cgroup" + runwasiScope + "/memory.stat",
			"sys/fs/cgroup" + runwasiScope + "/memory.events",
			"sys/fs/cgroup" + runwasiScope + "/pids.current",
			"sys/fs/cgroup" + runwasiScope + "/io.stat",
		}},
		{"v1-kubepods-cgroupfs-spin", []string{"1200", "1201"}, []string{
			"proc/1200/stat", "proc/1200/fd", "proc/1201/stat", "proc/1201/fd",
			"sys/fs/cgroup/cpu/kubepods/burstable/pod" + podUID + "/" + cid + "/cgroup.procs",
			"sys/fs/cgroup/cpuacct/kubepods/burstable/pod" + podUID + "/" + cid + "/cpuacct.usage",
			"sys/fs/cgroup/cpuacct/kubepods/burstable/pod" + podUID + "/" + cid + "/cpuacct.usage_user",
			"sys/fs/cgroup/cpuacct/kubepods/burstable/pod" + podUID + "/" + cid + "/cpuacct.usage_sys",
			"sys/fs/cgroup/cpu/kubepods/burstable/pod" + podUID + "/cpu.stat",
			"sys/fs/cgroup/memory/kubepods/burstable/pod" + podUID + "/" + cid + "/memory.usage_in_bytes",
			"sys/fs/cgroup/memory/kubepods/burstable/pod" + podUID + "/" + cid + "/memory.stat",
			"sys/fs/cgroup/memory/kubepods/burstable/pod" + podUID + "/" + cid + "/memory.oom_control",
			"sys/fs/cgroup/pids/kubepods/burstable/pod" + podUID + "/" + cid + "/pids.current",
			"sys/fs/cgroup/blkio/kubepods/burstable/pod" + podUID + "/" + cid + "/blkio.throttle.io_service_bytes_recursive",
		}},
	} {
		t.Run(tc.root, func(t *testing.T) {
			root, err := filepath.Abs(rootDir(tc.root))
			require.NoError(t, err)
			cfg := testConfig()
			cfg.RootPath = root
			s := newTestScraper(t, cfg)
			scrapeOnce(t, s)
			scrapeOnce(t, s)
			ops := traceScrape(t, s)
			var mine []string
			for _, op := range ops {
				rel, err := filepath.Rel(root, op.Path)
				require.NoError(t, err)
				for _, pid := range tc.pids {
					if strings.HasPrefix(rel, "proc/"+pid+"/") {
						mine = append(mine, rel)
					}
				}
				if strings.HasPrefix(rel, "sys/") {
					mine = append(mine, rel)
				}
			}
			slices.Sort(mine)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			assert.Equal(t, want, mine, "the reads of a steady-state scrape")
		})
	}
}
