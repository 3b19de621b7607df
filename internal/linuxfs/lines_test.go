package linuxfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestScanLines(t *testing.T) {
	dir := t.TempDir()
	// Lines that straddle the reader's buffer boundaries, and a file far larger than it.
	var want []string
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		l := strings.Repeat("x", i%300) + "|" + strings.Repeat("y", i%7)
		want = append(want, l)
		b.WriteString(l + "\n")
	}
	want = append(want, "last line without newline")
	b.WriteString(want[len(want)-1])
	p := filepath.Join(dir, "big")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(0)
	var got []string
	if err := r.ScanLines(p, func(l []byte) error { got = append(got, string(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if len(r.buf) > 64<<10 {
		t.Errorf("the buffer grew to %d bytes for a streamed file", len(r.buf))
	}

	long := filepath.Join(dir, "long")
	if err := os.WriteFile(long, []byte(strings.Repeat("z", 3*maxLine+len(r.buf))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.ScanLines(long, func([]byte) error { return nil }); !errors.Is(err, syscall.EFBIG) || Classify(err) != Malformed {
		t.Errorf("an overlong line: %v, want EFBIG counted as malformed", err)
	}
	if err := r.ScanLines(filepath.Join(dir, "absent"), func([]byte) error { return nil }); Classify(err) != Vanished {
		t.Errorf("a missing file: %v", err)
	}
}
