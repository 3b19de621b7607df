package cgroup_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
)

// Subtree finds the sub-cgroups below a directory breadth first within its bounds, and none
// below a leaf (whose link count tells it has no subdirectory), on a plain directory tree and
// on the real cgroup filesystem.
func TestSubtree(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"leaf", "vm/libvirt/emulator", "vm/libvirt/vcpu0", "vm/libvirt/vcpu1"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "vm", "cgroup.procs"), nil, 0o644))
	at := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }

	assert.Empty(t, cgroup.Subtree(nil, at("leaf"), 16, 8))
	assert.Equal(t, []string{at("vm", "libvirt"), at("vm", "libvirt", "emulator"), at("vm", "libvirt", "vcpu0"), at("vm", "libvirt", "vcpu1")},
		cgroup.Subtree(nil, at("vm"), 16, 8))
	assert.Equal(t, []string{at("vm", "libvirt")}, cgroup.Subtree(nil, at("vm"), 16, 1), "depth bound")
	assert.Len(t, cgroup.Subtree(nil, at("vm"), 2, 8), 2, "count bound")
	assert.Empty(t, cgroup.Subtree(nil, at("missing"), 16, 8))

	parent := cgrouptest.New(t, cgrouptest.Limits{})
	child := parent.Child(t, "emulator", cgrouptest.Limits{})
	for i, dir := range parent.Dirs {
		assert.Equal(t, []string{child.Dirs[i]}, cgroup.Subtree(nil, dir, 16, 8), "a real cgroup with one child")
		assert.Empty(t, cgroup.Subtree(nil, child.Dirs[i], 16, 8), "a real leaf cgroup")
	}
}
