package proc

import "bytes"

// ParseCmdline splits /proc/<pid>/cmdline into its arguments. A process that rewrote its
// argv with spaces instead of NULs gives one argument; the caller's matchers see it whole.
func ParseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil
	}
	n := bytes.Count(data, []byte{0}) + 1
	args := make([]string, 0, n)
	s := string(data) // one allocation, arguments share it
	for {
		i := indexByteString(s, 0)
		if i < 0 {
			return append(args, s)
		}
		args = append(args, s[:i])
		s = s[i+1:]
	}
}

func indexByteString(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
