package wasmmem

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// ErrMalformed is wrapped by every parse error. It is the Linux file layer's, so that a
// malformed smaps is counted under the same reason as any other malformed file.
var ErrMalformed = linuxfs.ErrMalformed

// Perm is the permission column of a mapping ("rw-p").
type Perm uint8

const (
	PermRead Perm = 1 << iota
	PermWrite
	PermExec
	PermShared
)

// None reports a PROT_NONE mapping: a reservation or a guard region.
func (p Perm) None() bool { return p&(PermRead|PermWrite|PermExec) == 0 }

// VMA is one mapping of /proc/<pid>/smaps (the kernel's fs/proc/task_mmu.c show_smap). Sizes
// are bytes. Path points into the parsed buffer and is valid only as long as that buffer.
type VMA struct {
	Start, End   uint64
	Perm         Perm
	Inode        uint64
	Path         []byte
	Rss          uint64
	Pss          uint64
	PrivateDirty uint64
	Anonymous    uint64
	Swap         uint64
}

// Size is the mapping's length.
func (v *VMA) Size() uint64 { return v.End - v.Start }

// Totals are sums over every mapping of a process, truncated ones included.
type Totals struct {
	VMAs         int
	Rss          uint64
	Pss          uint64
	PrivateDirty uint64
	Anonymous    uint64
	Swap         uint64
}

// Smaps is one parsed smaps file.
type Smaps struct {
	// VMAs holds the first MaxVMAs mappings in address order (the kernel prints them sorted).
	VMAs []VMA
	// Truncated counts the mappings past the bound: parsed into Totals, not kept.
	Truncated int
	Totals    Totals
}

// Scanner parses smaps files into reused storage: after the first file of a given size, a
// parse allocates nothing. The result is valid until the next Parse.
type Scanner struct {
	// MaxVMAs bounds the mappings kept per file (a process can have up to vm.max_map_count,
	// 65530 by default). Zero means DefaultMaxVMAs.
	MaxVMAs int
	vmas    []VMA
	block   block
}

// block is the run of fixed-width lines that follows each header on this kernel (Size to
// Locked on Linux 6.x), learned from the first mapping and checked on every other: where it
// matches, the fields the package uses are read at their offsets and the rest is skipped.
type block struct {
	lines int                // fixed-width lines after the header; 0 until learned
	at    [nFields]int8      // line of each field within the block, -1 when absent
	learn int                // lines seen in the current block while learning, -1 when done
	seen  [nFields]int8      // learning: line of each field so far
	name  [nFields][2]uint64 // the 16 name columns of each field's line, as two words
}

const (
	fRss = iota
	fPss
	fPrivateDirty
	fAnonymous
	fSwap
	nFields
)

var fieldNames = [nFields]string{"Rss:", "Pss:", "Private_Dirty:", "Anonymous:", "Swap:"}

func (v *VMA) field(f int) *uint64 {
	switch f {
	case fRss:
		return &v.Rss
	case fPss:
		return &v.Pss
	case fPrivateDirty:
		return &v.PrivateDirty
	case fAnonymous:
		return &v.Anonymous
	}
	return &v.Swap
}

// skipBlock reads the fixed-width block at the start of b into v when b has the learned shape,
// and returns the rest.
func (k *block) skipBlock(b []byte, v *VMA) ([]byte, bool) {
	n := k.lines * fieldLine
	if k.lines == 0 || len(b) < n {
		return b, false
	}
	for off := fieldLine - 1; off < n; off += fieldLine {
		if b[off] != '\n' {
			return b, false
		}
	}
	var vals [nFields]uint64
	for f, li := range k.at {
		if li < 0 {
			continue
		}
		line := b[int(li)*fieldLine : int(li)*fieldLine+fieldLine-1]
		if binary.LittleEndian.Uint64(line[0:8]) != k.name[f][0] || binary.LittleEndian.Uint64(line[8:16]) != k.name[f][1] {
			return b, false
		}
		x, ok := fixedKB(line)
		if !ok {
			return b, false
		}
		vals[f] = x
	}
	for f, li := range k.at {
		if li >= 0 {
			*v.field(f) = vals[f]
		}
	}
	return b[n:], true
}

const fieldLine = 28

// DefaultMaxVMAs keeps a process with 1,000 linear memories: the wasmtime test host with
// 1,000 instances has 8,808 mappings (three or four per memory, two per thread stack, the
// runtime's own).
const DefaultMaxVMAs = 16384

// Parse reads the bytes of one /proc/<pid>/smaps file.
func (s *Scanner) Parse(b []byte) (Smaps, error) {
	max := s.MaxVMAs
	if max <= 0 {
		max = DefaultMaxVMAs
	}
	out := Smaps{}
	vmas := s.vmas[:0]
	var cur *VMA // the mapping being filled, nil when past the bound
	var skipped VMA
	for lineNo := 1; len(b) > 0; lineNo++ {
		var line []byte
		// The kernel prints each size field as a 16-column name and an 8-column value
		// ("Rss:                 123 kB", fs/proc/task_mmu.c SEQ_PUT_DEC): 27 bytes and a
		// newline. Taking those without a search is what keeps the parse near a plain read.
		if len(b) >= fieldLine && b[fieldLine-1] == '\n' && b[fieldLine-4] == ' ' && b[fieldLine-3] == 'k' && b[fieldLine-2] == 'B' {
			line, b = b[:fieldLine-1], b[fieldLine:]
		} else if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if len(line) == 0 {
			continue
		}
		c := line[0]
		if s.block.lines == 0 && s.block.learn >= 0 && cur != nil {
			s.block.learnLine(line)
		}
		if len(line) == fieldLine-1 && cur != nil {
			if dst := fixedField(cur, line); dst != nil {
				v, ok := fixedKB(line)
				if !ok {
					s.vmas = vmas
					return Smaps{}, fmt.Errorf("smaps line %d: %w: %q", lineNo, ErrMalformed, line)
				}
				*dst = v
				continue
			}
			if c >= 'A' && c <= 'Z' {
				continue
			}
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			if cur != nil {
				out.Totals.add(cur)
			}
			if len(vmas) < max {
				vmas = append(vmas, VMA{})
				cur = &vmas[len(vmas)-1]
			} else {
				out.Truncated++
				skipped = VMA{}
				cur = &skipped
			}
			if err := parseHeader(line, cur); err != nil {
				s.vmas = vmas
				return Smaps{}, fmt.Errorf("smaps line %d: %w", lineNo, err)
			}
			if n := len(vmas); n >= 2 && cur != &skipped && vmas[n-2].End > cur.Start {
				s.vmas = vmas
				return Smaps{}, fmt.Errorf("smaps line %d: %w: mappings out of order", lineNo, ErrMalformed)
			}
			if rest, ok := s.block.skipBlock(b, cur); ok {
				lineNo += s.block.lines
				b = rest
				continue
			}
			if s.block.lines == 0 && s.block.learn != -1 {
				s.block.learn = 0
				s.block.seen = [nFields]int8{-1, -1, -1, -1, -1}
			}
			continue
		}
		if cur == nil {
			s.vmas = vmas
			return Smaps{}, fmt.Errorf("smaps line %d: %w: field before any mapping", lineNo, ErrMalformed)
		}
		dst := fieldOf(cur, line)
		if dst == nil {
			continue
		}
		v, ok := kB(line)
		if !ok {
			s.vmas = vmas
			return Smaps{}, fmt.Errorf("smaps line %d: %w: %q", lineNo, ErrMalformed, line)
		}
		*dst = v
	}
	if cur != nil {
		out.Totals.add(cur)
	}
	s.vmas = vmas
	out.VMAs = vmas
	return out, nil
}

func (t *Totals) add(v *VMA) {
	t.VMAs++
	t.Rss += v.Rss
	t.Pss += v.Pss
	t.PrivateDirty += v.PrivateDirty
	t.Anonymous += v.Anonymous
	t.Swap += v.Swap
}

// fieldOf returns where the value of line goes, or nil for a field the package does not use.
// Names are matched with their colon, so "Pss_Dirty:" is not "Pss:".
func fieldOf(v *VMA, line []byte) *uint64 {
	switch line[0] {
	case 'R':
		if bytes.HasPrefix(line, []byte("Rss:")) {
			return &v.Rss
		}
	case 'P':
		if bytes.HasPrefix(line, []byte("Pss:")) {
			return &v.Pss
		}
		if bytes.HasPrefix(line, []byte("Private_Dirty:")) {
			return &v.PrivateDirty
		}
	case 'A':
		if bytes.HasPrefix(line, []byte("Anonymous:")) {
			return &v.Anonymous
		}
	case 'S':
		if bytes.HasPrefix(line, []byte("Swap:")) {
			return &v.Swap
		}
	}
	return nil
}

// learnLine records one line of the first block: fixed-width lines extend it, the first other
// line ends it.
func (k *block) learnLine(line []byte) {
	if k.learn < 0 || k.learn > 100 {
		k.learn = -1
		return
	}
	if len(line) == fieldLine-1 && line[fieldLine-4] == ' ' && string(line[fieldLine-3:]) == "kB" {
		for f, name := range fieldNames {
			if string(line[:len(name)]) == name {
				k.seen[f] = int8(k.learn)
				k.name[f] = [2]uint64{binary.LittleEndian.Uint64(line[0:8]), binary.LittleEndian.Uint64(line[8:16])}
			}
		}
		k.learn++
		return
	}
	if k.learn > 0 {
		k.lines, k.at = k.learn, k.seen
	}
	k.learn = -1
}

// fixedField is fieldOf for a fixed-width line: the name's first bytes decide.
func fixedField(v *VMA, line []byte) *uint64 {
	switch string(line[:4]) {
	case "Rss:":
		return &v.Rss
	case "Pss:":
		return &v.Pss
	case "Priv":
		if string(line[:14]) == "Private_Dirty:" {
			return &v.PrivateDirty
		}
	case "Anon":
		if string(line[:10]) == "Anonymous:" {
			return &v.Anonymous
		}
	case "Swap":
		if line[4] == ':' {
			return &v.Swap
		}
	}
	return nil
}

// fixedKB reads the 8-column value of a fixed-width line ("Name:" padded to 16 columns),
// right to left: most values are a digit or two.
func fixedKB(line []byte) (uint64, bool) {
	v := line[16:24]
	i := len(v) - 1
	var n, mul uint64 = 0, 1
	for ; i >= 0 && v[i] >= '0' && v[i] <= '9'; i-- {
		n += uint64(v[i]-'0') * mul
		mul *= 10
	}
	if i == len(v)-1 {
		return 0, false
	}
	for ; i >= 0; i-- {
		if v[i] != ' ' {
			return 0, false
		}
	}
	return n << 10, true
}

// kB parses the "Name:   1234 kB" value of a field line into bytes.
func kB(line []byte) (uint64, bool) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return 0, false
	}
	i++
	for i < len(line) && line[i] == ' ' {
		i++
	}
	var n uint64
	digits := 0
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
		if n > (1<<54)-1 { // kB values past 2^54 would overflow as bytes
			return 0, false
		}
		n = n*10 + uint64(line[i]-'0')
		digits++
	}
	if digits == 0 || string(line[i:]) != " kB" {
		return 0, false
	}
	return n << 10, true
}

// parseHeader reads "start-end perms offset dev inode [path]".
func parseHeader(line []byte, v *VMA) error {
	rest := line
	start, rest, ok := hexUntil(rest, '-')
	if !ok {
		return fmt.Errorf("%w: address range in %q", ErrMalformed, line)
	}
	end, rest, ok := hexUntil(rest, ' ')
	if !ok || end < start {
		return fmt.Errorf("%w: address range in %q", ErrMalformed, line)
	}
	if len(rest) < 5 || rest[4] != ' ' {
		return fmt.Errorf("%w: permissions in %q", ErrMalformed, line)
	}
	var p Perm
	for j, want := range [4]byte{'r', 'w', 'x', 's'} {
		switch rest[j] {
		case want:
			p |= 1 << j
		case '-', 'p':
		default:
			return fmt.Errorf("%w: permissions in %q", ErrMalformed, line)
		}
	}
	rest = rest[5:]
	// Offset and device ("00000000 fe:00") are not used: skip both columns.
	for col := 0; col < 2; col++ {
		i := bytes.IndexByte(rest, ' ')
		if i <= 0 {
			return fmt.Errorf("%w: offset or device in %q", ErrMalformed, line)
		}
		rest = rest[i+1:]
	}
	var inode uint64
	j := 0
	for ; j < len(rest) && rest[j] >= '0' && rest[j] <= '9'; j++ {
		inode = inode*10 + uint64(rest[j]-'0')
	}
	if j == 0 {
		return fmt.Errorf("%w: inode in %q", ErrMalformed, line)
	}
	rest = rest[j:]
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	*v = VMA{Start: start, End: end, Perm: p, Inode: inode, Path: rest}
	return nil
}

var hexVal = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = uint8(c-'a') + 10
	}
	return t
}()

func hexUntil(b []byte, sep byte) (uint64, []byte, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && b[i] != sep; i++ {
		d := hexVal[b[i]]
		if d == 0xff || i >= 16 {
			return 0, nil, false
		}
		n = n<<4 | uint64(d)
	}
	if i == 0 || i >= len(b) {
		return 0, nil, false
	}
	return n, b[i+1:], true
}
