package cgroup

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hierarchies of a v1 host can disagree: a supervisor confines memory in a cgroup of its
// own while the runtime put the process in pids:/docker/<id>. The path that names a workload
// wins; without one, the first that is not the root.
func TestPathsIdentityPrefersAWorkloadPath(t *testing.T) {
	const docker = "/docker/4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	for _, c := range []struct {
		name, file, want string
	}{
		{"runtime in pids only", "8:pids:" + docker + "\n4:memory:/supervisor/job-1\n1:cpu,cpuacct:/\n0::/\n", docker},
		{"no workload anywhere", "8:pids:/\n4:memory:/supervisor/job-1\n1:cpu,cpuacct:/user.slice\n0::/\n", "/user.slice"},
		{"v2", "0::/system.slice/docker-4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a.scope\n", "/system.slice/docker-4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a.scope"},
		{"all at the root", "4:memory:/\n0::/\n", "/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePaths([]byte(c.file))
			require.NoError(t, err)
			assert.Equal(t, c.want, p.Identity())
		})
	}
}
