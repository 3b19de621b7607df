package testwasm

import (
	"os"
	"testing"
)

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go to wasip1; skipped with -short")
	}
	for _, g := range Guests {
		p := Build(t, g)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// "\0asm" magic and version 1.
		if len(b) < 8 || string(b[:4]) != "\x00asm" || b[4] != 1 {
			t.Errorf("%s: not a Wasm module", p)
		}
	}
}
