package wasmmem

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Parsing of one smaps line: the VMA header and the "<Field>: <n> kB" lines, without
// allocating.

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
