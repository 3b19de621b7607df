package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// repoPath returns the absolute path of a file of the repository.
func repoPath(rel ...string) string {
	return filepath.Join(append([]string{e2e.RepoRoot()}, rel...)...)
}

func readRepoFile(t *testing.T, rel ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(repoPath(rel...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collectorBinary returns the real otelcol-virt binary, or skips in -short mode where tests must
// not build it.
func collectorBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() && os.Getenv("OTELCOL_VIRT_BIN") == "" {
		t.Skip("-short: validating configs needs the otelcol-virt binary (set OTELCOL_VIRT_BIN or run without -short)")
	}
	return e2e.CollectorBinary(t)
}

// validateCollectorConfig runs `otelcol-virt validate` on a configuration, with extra arguments
// (--set=...) and environment variables, and fails the test with the binary's own message.
func validateCollectorConfig(t *testing.T, name string, config []byte, args []string, env map[string]string) {
	t.Helper()
	if err := runValidate(t, config, args, env); err != nil {
		t.Errorf("%s: otelcol-virt validate rejected the configuration: %v", name, err)
	}
}

func runValidate(t *testing.T, config []byte, args []string, env map[string]string) error {
	t.Helper()
	bin := collectorBinary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, config, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"validate", "--config=" + path}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return &validateError{err: err, output: out.String()}
	}
	return nil
}

type validateError struct {
	err    error
	output string
}

func (e *validateError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.output) }

// yamlMap decodes YAML into a generic map (through JSON, as Kubernetes and the Collector do).
func yamlMap(t *testing.T, name string, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// lookup walks a decoded YAML document along keys; ok is false when a key is missing.
func lookup(m any, keys ...string) (any, bool) {
	cur := m
	for _, k := range keys {
		mm, isMap := cur.(map[string]any)
		if !isMap {
			return nil, false
		}
		cur, isMap = mm[k]
		if !isMap {
			return nil, false
		}
	}
	return cur, true
}

// makeVariable returns the value of a `NAME := value` line of the Makefile.
func makeVariable(t *testing.T, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*:?=\s*(\S+)\s*$`)
	m := re.FindSubmatch(readRepoFile(t, "Makefile"))
	if m == nil {
		t.Fatalf("Makefile has no %s variable", name)
	}
	return string(m[1])
}

func itoa[T ~int | ~int32 | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// promtoolPath returns promtool (Debian package prometheus, installed by `make deps`); without
// it the caller's check is skipped with a message, or fails under CI=true where deps are
// installed.
func promtoolPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found; `make deps` installs the Debian package prometheus")
		}
		t.Skip("promtool not found: run `make deps` (Debian package prometheus)")
	}
	return p
}
