package wasmmem

// Memory is one linear memory in a Report.
type Memory struct {
	Region
	// Index names the memory within its process across reports: memories keep their index
	// while their base address stays; a new memory takes the smallest free index, so indices
	// stay below the number of memories ever live at once. A memory freed and another mapped
	// at the same address between two reports cannot be told apart and keep the index.
	Index int
	// Growth is the change of Resident since the previous report (zero for a new memory).
	Growth int64
	// New is set for a memory first seen in this report.
	New bool
}

// Report is the linear memories of one process at one read of its smaps.
type Report struct {
	Memories []Memory // address order
	// Largest is the position in Memories of the memory with the most resident bytes, -1 when
	// there is none.
	Largest int
	// Truncated counts mappings past the scanner's bound: memories among them were not seen.
	Truncated int
	Totals    Totals
}

// LargestMemory returns the largest memory, ok false when there is none.
func (r *Report) LargestMemory() (Memory, bool) {
	if r.Largest < 0 {
		return Memory{}, false
	}
	return r.Memories[r.Largest], true
}

type tracked struct {
	index    int
	resident uint64
	seen     uint64
}

// Tracker keeps the memories of one process between reports. Keep one per process; it is
// not safe for concurrent use. After the first reports, Update allocates nothing as long as
// the number of memories does not grow.
type Tracker struct {
	Layout  Layout
	Scanner Scanner

	gen     uint64
	byBase  map[uint64]*tracked
	free    []*tracked
	used    []bool // used[index]
	regions []Region
	out     []Memory
}

// NewTracker returns a tracker for layout.
func NewTracker(l Layout) *Tracker {
	return &Tracker{Layout: l, byBase: map[uint64]*tracked{}}
}

// Update parses one smaps file of the process and returns its report, valid until the next
// Update.
func (t *Tracker) Update(smaps []byte) (Report, error) {
	s, err := t.Scanner.Parse(smaps)
	if err != nil {
		return Report{}, err
	}
	return t.update(s), nil
}

func (t *Tracker) update(s Smaps) Report {
	if t.byBase == nil {
		t.byBase = map[uint64]*tracked{}
	}
	t.gen++
	t.regions = Classify(t.regions[:0], s.VMAs, t.Layout)
	t.out = t.out[:0]
	rep := Report{Largest: -1, Truncated: s.Truncated, Totals: s.Totals}
	// Existing memories first, so freed indices are known before new ones take any.
	for _, r := range t.regions {
		if m, ok := t.byBase[r.Base]; ok {
			m.seen = t.gen
		}
	}
	for base, m := range t.byBase {
		if m.seen != t.gen {
			t.used[m.index] = false
			delete(t.byBase, base)
			t.free = append(t.free, m)
		}
	}
	for _, r := range t.regions {
		m, ok := t.byBase[r.Base]
		mem := Memory{Region: r}
		if ok {
			mem.Growth = int64(r.Resident) - int64(m.resident)
		} else {
			m = t.newTracked()
			m.seen = t.gen
			t.byBase[r.Base] = m
			mem.New = true
		}
		m.resident = r.Resident
		mem.Index = m.index
		t.out = append(t.out, mem)
		if rep.Largest < 0 || r.Resident > t.out[rep.Largest].Resident {
			rep.Largest = len(t.out) - 1
		}
	}
	rep.Memories = t.out
	return rep
}

func (t *Tracker) newTracked() *tracked {
	idx := 0
	for idx < len(t.used) && t.used[idx] {
		idx++
	}
	if idx == len(t.used) {
		t.used = append(t.used, false)
	}
	t.used[idx] = true
	var m *tracked
	if n := len(t.free); n > 0 {
		m, t.free = t.free[n-1], t.free[:n-1]
		*m = tracked{}
	} else {
		m = &tracked{}
	}
	m.index = idx
	return m
}
