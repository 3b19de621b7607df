package wasmmem

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The capture's host says where each instance's memory is and what its own pagemap shows
// present there; the classifier, reading only smaps, must find exactly those memories.
func TestClassifyCapturedWasmtimeHost(t *testing.T) {
	for _, name := range []string{"wasmtime-5", "wasmtime-1000"} {
		t.Run(name, func(t *testing.T) {
			c := loadCapture(t, name)
			require.NotEmpty(t, c.started)
			var s Scanner
			sm, err := s.Parse(c.smaps)
			require.NoError(t, err)
			require.Zero(t, sm.Truncated)
			checkKernelInvariants(t, sm)
			regions := Classify(nil, sm.VMAs, Wasmtime)
			require.Len(t, regions, len(c.started), "one linear memory per instance")
			bases := make([]uint64, len(c.started))
			for i, e := range c.started {
				bases[i] = e.Base
			}
			sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
			byBase := map[uint64]Region{}
			for i, r := range regions {
				assert.Equal(t, bases[i], r.Base)
				byBase[r.Base] = r
				assert.LessOrEqual(t, r.Resident, r.Committed)
				assert.LessOrEqual(t, r.Committed, r.Capacity)
				assert.Equal(t, uint64(4<<30+64<<20), r.Reserved)
			}
			for _, st := range c.report.Instances {
				r := byBase[c.started[st.Index].Base]
				// Both are page-table walks of the same moment, from two kernel interfaces.
				assert.InDelta(t, float64(st.Present), float64(r.Resident), 0.05*float64(st.Present)+64<<10,
					"instance %d: smaps resident vs the host's pagemap", st.Index)
				if st.Touched > 0 {
					assert.GreaterOrEqual(t, r.Resident, st.Touched, "instance %d", st.Index)
				}
			}
		})
	}
}

// checkKernelInvariants holds the fixture to what the kernel guarantees.
func checkKernelInvariants(t *testing.T, s Smaps) {
	t.Helper()
	for i, v := range s.VMAs {
		require.Less(t, v.Start, v.End)
		if i > 0 {
			require.LessOrEqual(t, s.VMAs[i-1].End, v.Start, "sorted, not overlapping")
		}
		assert.LessOrEqual(t, v.Rss, v.Size())
		assert.LessOrEqual(t, v.Pss, v.Rss)
		assert.LessOrEqual(t, v.PrivateDirty, v.Rss)
		assert.LessOrEqual(t, v.Anonymous, v.Rss)
	}
}
