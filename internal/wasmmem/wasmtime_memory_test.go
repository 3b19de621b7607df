//go:build cgo && linux

package wasmmem

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Several instances in one wasmtime process: one linear memory per instance, found at the
// base the host reports, with resident bytes within 5 % of what each memgrow guest says it
// touched and of what the host's own page table shows.
func TestWasmtimeOneMemoryPerInstance(t *testing.T) {
	h := startHost(t, nil, "memgrow,96,0", "memgrow,160,0", "memgrow,224,0", "cpuloop", "filespam,/data,50", "connspam")
	for i, want := range []uint64{96 << 20, 160 << 20, 224 << 20} {
		h.waitTouched(t, i, want)
	}
	tr := NewTracker(Wasmtime)
	var fb FileBuffer
	rep, err := tr.Update(h.smaps(t, &fb))
	require.NoError(t, err)
	truth := h.report(t)
	require.Len(t, rep.Memories, len(h.started), "one linear memory per instance")
	mems := h.byBase(rep)
	for i, st := range h.started {
		m, ok := mems[st.Base]
		require.True(t, ok, "instance %d (%s): no memory at its base %#x", i, st.Guest, st.Base)
		present := truth.Instances[i].Present
		t.Logf("instance %d %-8s index %d committed %s resident %s (host pagemap %s, guest touched %s)",
			i, st.Guest, m.Index, mib(m.Committed), mib(m.Resident), mib(present), mib(truth.Instances[i].Touched))
		assert.InDelta(t, float64(present), float64(m.Resident), 0.05*float64(present), "instance %d vs the host's page table", i)
		assert.LessOrEqual(t, m.Resident, m.Committed)
		assert.Equal(t, uint64(4<<30), m.Capacity)
		if touched := truth.Instances[i].Touched; touched > 0 {
			assert.GreaterOrEqual(t, m.Resident, touched, "instance %d holds what it touched", i)
			assert.LessOrEqual(t, float64(m.Resident), 1.05*float64(touched), "instance %d within 5 %% of what it touched", i)
		}
	}
	largest, ok := rep.LargestMemory()
	require.True(t, ok)
	assert.Equal(t, h.started[2].Base, largest.Base, "memgrow 224 MiB is the largest")
	assert.LessOrEqual(t, largest.Resident, rep.Totals.Rss)
}

// The memory-growth guest's memory is the one that grows between two reports; the others
// stay where they are, and every memory keeps its index.
func TestWasmtimeGrowerIsTheGrowingMemory(t *testing.T) {
	h := startHost(t, nil, "cpuloop", "filespam,/data,20", "memgrow,400,100", "connspam")
	h.waitTouched(t, 2, 16<<20)
	tr := NewTracker(Wasmtime)
	var fb FileBuffer
	first, err := tr.Update(h.smaps(t, &fb))
	require.NoError(t, err)
	require.Len(t, first.Memories, 4)
	index := map[uint64]int{}
	for _, m := range first.Memories {
		index[m.Base] = m.Index
		assert.True(t, m.New)
	}
	// Wait on the guest's own progress, not on time: on a loaded machine the grower may get
	// little CPU.
	t1 := h.report(t).Instances[2].Touched
	h.waitTouched(t, 2, t1+16<<20)
	t2 := h.report(t).Instances[2].Touched
	second, err := tr.Update(h.smaps(t, &fb))
	require.NoError(t, err)
	require.Len(t, second.Memories, 4)
	grower := h.started[2].Base
	for _, m := range second.Memories {
		assert.Equal(t, index[m.Base], m.Index, "index kept across reports")
		assert.False(t, m.New)
		if m.Base == grower {
			// Touched pages stay resident: the memory grew at least by what the guest touched
			// between the reads (t1 was read after the first smaps, t2 before the second).
			assert.GreaterOrEqual(t, m.Growth, int64(t2-t1), "memgrow's memory grows with what it touches")
		} else {
			assert.Less(t, abs(m.Growth), int64(1<<20), "memory at %#x does not grow", m.Base)
		}
	}
	largest, ok := second.LargestMemory()
	require.True(t, ok)
	assert.Equal(t, grower, largest.Base)
	t.Logf("largest: index %d resident %s growth %s", largest.Index, mib(largest.Resident), mib(uint64(largest.Growth)))
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// What cannot be told apart, shown on the real engine: pooling-allocator slots have the
// on-demand shape from their base, so they are classified the same way; memories with a
// custom guard size are found only with a layout that says so.
func TestWasmtimePoolingAndCustomGuards(t *testing.T) {
	t.Run("pooling", func(t *testing.T) {
		h := startHost(t, []string{"-pooling", "8"}, "memgrow,8,0", "memgrow,16,0", "memgrow,0")
		h.waitTouched(t, 1, 16<<20)
		tr := NewTracker(Wasmtime)
		var fb FileBuffer
		rep, err := tr.Update(h.smaps(t, &fb))
		require.NoError(t, err)
		require.Len(t, rep.Memories, 3, "the used slots, not the five never instantiated")
		mems := h.byBase(rep)
		for i, st := range h.started {
			_, ok := mems[st.Base]
			assert.True(t, ok, "slot of instance %d at %#x", i, st.Base)
		}
	})
	t.Run("custom guard", func(t *testing.T) {
		const guard = 64 << 10
		h := startHost(t, []string{"-memory-guard-size", "65536"}, "memgrow,8,0", "memgrow,0")
		h.waitTouched(t, 0, 8<<20)
		var fb FileBuffer
		data := h.smaps(t, &fb)
		def, err := NewTracker(Wasmtime).Update(data)
		require.NoError(t, err)
		assert.Empty(t, def.Memories, "32 MiB guards expected: none found")
		custom := Layout{Engine: "wasmtime", GuardBefore: guard, Reservation: 4 << 30, GuardAfter: guard}
		rep, err := NewTracker(custom).Update(data)
		require.NoError(t, err)
		require.Len(t, rep.Memories, 2)
		mems := h.byBase(rep)
		for i, st := range h.started {
			_, ok := mems[st.Base]
			assert.True(t, ok, "instance %d at %#x", i, st.Base)
		}
	})
}
