package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the root of the repository this package was compiled from.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("e2e: cannot locate the repository root")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ToolPath returns the path of a pinned tool installed by `make tools` under .tools/.
// The OTELCOL_VIRT_TOOLS environment variable overrides the directory.
func ToolPath(name string) (string, error) {
	dir := os.Getenv("OTELCOL_VIRT_TOOLS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), ".tools")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found at %s: run `make tools` (it installs the pinned versions)", name, p)
	}
	return p, nil
}

// Tool returns the path of a pinned tool, failing the test when it is missing: `make test`
// installs every tool first, so a missing one is a broken setup, not an environment to skip.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := ToolPath(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
