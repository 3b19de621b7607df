// Package testwasm builds the Wasm guests of this directory (GOOS=wasip1 GOARCH=wasm) for
// tests that run them under a real Wasm runtime. Each guest reproduces one resource attack on
// Wasm hosts: cpuloop (CPU exhaustion), memgrow (memory exhaustion), filespam (WASI
// filesystem abuse) and connspam (connection flood).
package testwasm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Guests are the modules Build knows.
var Guests = []string{"cpuloop", "memgrow", "filespam", "connspam"}

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// Dir is where built modules (and a wazero compilation cache) are kept between test runs; the
// file names carry a hash of the source, so a changed guest is rebuilt.
func Dir() string { return filepath.Join(os.TempDir(), "otelcol-virt-testwasm") }

// Build compiles guest and returns the path of its .wasm file. It fails the test when the Go
// toolchain cannot target wasip1.
func Build(tb testing.TB, guest string) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[guest]; ok {
		return p
	}
	src := filepath.Join(sourceDir(), guest, "main.go")
	code, err := os.ReadFile(src)
	if err != nil {
		tb.Fatalf("testwasm: unknown guest %q: %v", guest, err)
	}
	sum := sha256.Sum256(code)
	out := filepath.Join(Dir(), guest+"-"+hex.EncodeToString(sum[:6])+".wasm")
	if _, err := os.Stat(out); err == nil {
		built[guest] = out
		return out
	}
	if err := os.MkdirAll(Dir(), 0o755); err != nil {
		tb.Fatal(err)
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	// Several test binaries may build the same guest at once: each writes its own temporary
	// file and renames it into place.
	f, err := os.CreateTemp(Dir(), guest+"-*.tmp")
	if err != nil {
		tb.Fatal(err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	cmd := exec.Command(goBin, "build", "-o", tmp, "./"+guest)
	cmd.Dir = sourceDir()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("testwasm: building %s: %v\n%s", guest, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		tb.Fatal(err)
	}
	built[guest] = out
	return out
}

func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}
