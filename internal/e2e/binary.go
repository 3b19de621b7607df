package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// CollectorBinary returns the path of the real otelcol-virt binary. When OTELCOL_VIRT_BIN is set
// (as `make test` does after `make build`) that binary is used as is; otherwise the binary is built
// with the pinned builder once per test process, under a lock shared by all test processes so that
// parallel packages do not run the builder over each other.
func CollectorBinary(tb testing.TB) string {
	tb.Helper()
	return binary(tb, "OTELCOL_VIRT_BIN", "otelcol-virt")
}

// EdgeCollectorBinary is CollectorBinary for the otelcol-virt-edge distribution.
func EdgeCollectorBinary(tb testing.TB) string {
	tb.Helper()
	return binary(tb, "OTELCOL_VIRT_EDGE_BIN", "otelcol-virt-edge")
}

var edgeOnce sync.Once
var edgePath string
var edgeErr error

func binary(tb testing.TB, env, name string) string {
	tb.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	once, path, errp := &buildOnce, &buildPath, &buildErr
	if name == "otelcol-virt-edge" {
		once, path, errp = &edgeOnce, &edgePath, &edgeErr
	}
	once.Do(func() { *path, *errp = buildLocked(name) })
	if *errp != nil {
		tb.Fatalf("building %s: %v", name, *errp)
	}
	return *path
}

// buildLocked runs `make bin/<name>`; the Makefile serialises builder runs with a file lock so
// that parallel test packages do not generate into the same directory at once.
func buildLocked(name string) (string, error) {
	root := RepoRoot()
	cmd := exec.Command("make", "-C", root, "bin/"+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("make bin/%s: %w\n%s", name, err, out)
	}
	return filepath.Join(root, "bin", name), nil
}
