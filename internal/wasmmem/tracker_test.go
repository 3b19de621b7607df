package wasmmem

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	kib = 1 << 10
	mb  = 1 << 20
	gb  = 1 << 30
)

// gone marks a memory already unmapped.
const gone = ^uint64(0)

// wasmtimeMemories renders memories laid out as wasmtime's on-demand allocator does, placed
// top-down and adjacent the way mmap places them, so neighbouring PROT_NONE regions merge.
// committed and rss are per memory (bytes); a zero committed leaves the memory PROT_NONE.
func wasmtimeMemories(top uint64, committed, rss []uint64) (string, []uint64) {
	l := Wasmtime
	type m struct{ start, base uint64 }
	var ms []m
	at := top
	for range committed {
		at -= l.Span()
		ms = append(ms, m{at, at + l.GuardBefore})
	}
	// Address order: lowest first.
	var b strings.Builder
	var bases []uint64
	noneFrom := ms[len(ms)-1].start
	for i := len(ms) - 1; i >= 0; i-- {
		c := committed[i]
		if c == gone {
			b.WriteString(vma(noneFrom, ms[i].start, "---p", "", 0, 0))
			noneFrom = ms[i].start + l.Span()
			continue
		}
		if c == 0 {
			continue
		}
		b.WriteString(vma(noneFrom, ms[i].base, "---p", "", 0, 0))
		b.WriteString(vma(ms[i].base, ms[i].base+c, "rw-p", "", rss[i]/kib, 0))
		noneFrom = ms[i].base + c
		bases = append(bases, ms[i].base)
	}
	b.WriteString(vma(noneFrom, top, "---p", "", 0, 0))
	return b.String(), bases
}

func TestClassifyMergedGuards(t *testing.T) {
	in, bases := wasmtimeMemories(0x7f0000000000, []uint64{8 * mb, 16 * mb, 24 * mb}, []uint64{4 * mb, 16 * mb, 1 * mb})
	var s Scanner
	sm, err := s.Parse([]byte(in))
	require.NoError(t, err)
	require.Len(t, sm.VMAs, 7, "4 PROT_NONE regions (merged across memories) and 3 committed parts")
	r := Classify(nil, sm.VMAs, Wasmtime)
	require.Len(t, r, 3)
	for i, reg := range r {
		assert.Equal(t, bases[i], reg.Base)
	}
	assert.Equal(t, uint64(24*mb), r[0].Committed)
	assert.Equal(t, uint64(1*mb), r[0].Resident)
	assert.Equal(t, uint64(4*gb+64*mb), r[0].Reserved)
	// The same mappings under WasmEdge's layout (4 GiB guards) are not memories.
	assert.Empty(t, Classify(nil, sm.VMAs, WasmEdge))
}

func TestClassifyEmptyMemory(t *testing.T) {
	in, _ := wasmtimeMemories(0x7f0000000000, []uint64{8 * mb, 0, 8 * mb}, []uint64{4 * mb, 0, 4 * mb})
	var s Scanner
	sm, err := s.Parse([]byte(in))
	require.NoError(t, err)
	r := Classify(nil, sm.VMAs, Wasmtime)
	require.Len(t, r, 3, "the empty memory between two is a whole span of PROT_NONE")
	assert.Zero(t, r[1].Committed)
	assert.Less(t, r[0].Base, r[1].Base)
	assert.Less(t, r[1].Base, r[2].Base)
}

func TestClassifyIgnoresOtherMappings(t *testing.T) {
	// A thread stack (4 KiB guard), a glibc arena (64 MiB, rw + PROT_NONE tail) and a 1 GiB
	// PROT_NONE reservation with a read-write head: none has a linear memory's shape.
	in := vma(0x10000, 0x11000, "---p", "", 0, 0) + vma(0x11000, 0x811000, "rw-p", "", 8, 0) +
		vma(0x7f0000000000, 0x7f0001000000, "rw-p", "", 16*kib, 0) + vma(0x7f0001000000, 0x7f0004000000, "---p", "", 0, 0) +
		vma(0x7f1000000000, 0x7f1002000000, "---p", "", 0, 0) + vma(0x7f1002000000, 0x7f1003000000, "rw-p", "", 0, 0) +
		vma(0x7f1003000000, 0x7f1042000000, "---p", "", 0, 0)
	var s Scanner
	sm, err := s.Parse([]byte(in))
	require.NoError(t, err)
	assert.Empty(t, Classify(nil, sm.VMAs, Wasmtime))
	assert.Empty(t, Classify(nil, sm.VMAs, WasmEdge))
	assert.Empty(t, Classify(nil, sm.VMAs, Wasmer))
}

func TestTrackerIndicesAndGrowth(t *testing.T) {
	tr := NewTracker(Wasmtime)
	in, bases := wasmtimeMemories(0x7f0000000000, []uint64{8 * mb, 16 * mb, 24 * mb}, []uint64{4 * mb, 8 * mb, 1 * mb})
	rep, err := tr.Update([]byte(in))
	require.NoError(t, err)
	require.Len(t, rep.Memories, 3)
	idx := map[uint64]int{}
	for i, m := range rep.Memories {
		assert.Equal(t, i, m.Index, "first report: address order")
		assert.True(t, m.New)
		assert.Zero(t, m.Growth)
		idx[m.Base] = m.Index
	}
	largest, ok := rep.LargestMemory()
	require.True(t, ok)
	assert.Equal(t, uint64(8*mb), largest.Resident)

	// The middle memory (by address) vanishes, one grows; a new memory below takes the freed index.
	in2, bases2 := wasmtimeMemories(0x7f0000000000, []uint64{8 * mb, gone, 24 * mb, 4 * mb}, []uint64{6 * mb, 0, 1 * mb, 2 * mb})
	rep, err = tr.Update([]byte(in2))
	require.NoError(t, err)
	require.Len(t, rep.Memories, 3)
	assert.Equal(t, bases2[0], rep.Memories[0].Base)
	assert.True(t, rep.Memories[0].New)
	assert.Equal(t, idx[bases[1]], rep.Memories[0].Index, "smallest free index reused")
	for _, m := range rep.Memories[1:] {
		assert.Equal(t, idx[m.Base], m.Index)
		assert.False(t, m.New)
	}
	top := rep.Memories[2]
	assert.Equal(t, int64(2*mb), top.Growth)
	assert.Equal(t, 2, rep.Largest)

	_, err = tr.Update([]byte("garbage\n"))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestCadence(t *testing.T) {
	c := Cadence{Every: 3}
	var got []bool
	for range 7 {
		got = append(got, c.Due())
	}
	assert.Equal(t, []bool{true, false, false, true, false, false, true}, got)
	every := Cadence{}
	assert.True(t, every.Due())
	assert.True(t, every.Due())
}

func TestFileBuffer(t *testing.T) {
	fb := FileBuffer{Max: 64}
	_, err := fb.Read("testdata/rollup/smaps_rollup")
	assert.ErrorIs(t, err, ErrTooLarge)
	fb.Max = 0
	b, err := fb.Read("testdata/rollup/smaps_rollup")
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(b), "Locked:                0 kB\n"))
	_, err = fb.Read("testdata/none")
	assert.Error(t, err)
	assert.Equal(t, "/proc/42/smaps_rollup", RollupPath("/proc", 42))
}
