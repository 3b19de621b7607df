package linuxfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJoinCacheKeepsWhatEachPassUses(t *testing.T) {
	var c JoinCache
	assert.Equal(t, "/sys/fs/cgroup/kubepods/pod1", c.Join("/sys/fs/cgroup", "/kubepods/pod1"))
	assert.Equal(t, "/sys/fs/cgroup/kubepods/pod2", c.Join("/sys/fs/cgroup/", "kubepods/pod2/"))
	c.EndPass()
	assert.Equal(t, 2, c.Len())

	assert.Equal(t, "/sys/fs/cgroup/kubepods/pod1", c.Join("/sys/fs/cgroup", "/kubepods/pod1"))
	c.EndPass()
	assert.Equal(t, 1, c.Len(), "pod2 was not used in the second pass")
	assert.Equal(t, "/sys/fs/cgroup", c.Join("/sys/fs/cgroup", "/"))

	allocs := testing.AllocsPerRun(100, func() { _ = c.Join("/sys/fs/cgroup", "/kubepods/pod1") })
	assert.Zero(t, allocs, "a join held from an earlier pass allocates nothing")
}
