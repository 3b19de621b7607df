package e2e

import (
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// distribution is one Collector Builder manifest and the directory its committed sources are in.
type distribution struct{ name, manifest string }

var distributions = []distribution{
	{"otelcol-virt", "builder-config.yaml"},
	{"otelcol-virt-edge", "distributions/otelcol-virt-edge/manifest.yaml"},
	{"otelcol-virt-full", "distributions/otelcol-virt-full/manifest.yaml"},
}

// The committed sources of every distribution are what the pinned builder generates from its
// manifest today: a manifest edited without `make generate` fails here, not in a user's build.
func TestGeneratedDistributionsCurrent(t *testing.T) {
	builder := Tool(t, "builder")
	for _, d := range distributions {
		t.Run(d.name, func(t *testing.T) {
			committed := filepath.Join(RepoRoot(), "distributions", d.name)
			m := readManifest(t, d.manifest)
			out := t.TempDir()
			m["dist"].(map[string]any)["output_path"] = out
			data, err := yaml.Marshal(m)
			require.NoError(t, err)
			cfg := filepath.Join(t.TempDir(), "manifest.yaml")
			require.NoError(t, os.WriteFile(cfg, data, 0o644))
			// Sources only: module resolution needs the replace path to point at this repository,
			// which it does only from the committed location; go.sum is proven by `make build`.
			cmd := exec.Command(builder, "--skip-compilation", "--skip-get-modules", "--config", cfg)
			cmd.Dir = RepoRoot()
			b, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", b)
			gen, _ := filepath.Glob(filepath.Join(out, "*.go"))
			require.NotEmpty(t, gen)
			for _, f := range gen {
				raw, err := os.ReadFile(f)
				require.NoError(t, err)
				want, err := format.Source(raw) // make generate gofmts what the builder writes
				require.NoError(t, err)
				got, err := os.ReadFile(filepath.Join(committed, filepath.Base(f)))
				require.NoError(t, err, "distributions/%s is missing %s: run `make generate`", d.name, filepath.Base(f))
				assert.Equal(t, string(want), string(got), "distributions/%s/%s is stale: run `make generate`", d.name, filepath.Base(f))
			}
			// Every module the manifest asks for is required at its version by the committed go.mod.
			mod, err := os.ReadFile(filepath.Join(committed, "go.mod"))
			require.NoError(t, err)
			for _, c := range manifestModules(t, m) {
				req := strings.Fields(c)[1] + " " + strings.Fields(c)[2]
				assert.Contains(t, string(mod), "\t"+req, "distributions/%s/go.mod does not require %s: run `make generate`", d.name, req)
			}
			assert.Contains(t, string(mod), "github.com/otelcol-virt/otelcol-virt => ../../", "the distribution must build this checkout")
		})
	}
}

// otelcol-virt-full is otelcol-virt plus exactly the heavy components, so that the two cannot
// drift apart: a component added to the main manifest and forgotten in the full one fails here.
func TestFullDistributionIsMainPlusHeavyComponents(t *testing.T) {
	main := manifestModules(t, readManifest(t, "builder-config.yaml"))
	full := manifestModules(t, readManifest(t, "distributions/otelcol-virt-full/manifest.yaml"))
	heavy := []string{
		"receivers github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver v0.165.1",
		"exporters github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter v0.165.1",
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(main), heavy...)))
	assert.Equal(t, want, full)
	for _, h := range heavy {
		assert.NotContains(t, main, h, "a heavy component is back in the main distribution")
	}
}

func readManifest(t *testing.T, rel string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(RepoRoot(), rel))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(data, &m), rel)
	return m
}

// manifestModules lists "<kind> <gomod>[ <import>]" of every component and provider, sorted.
func manifestModules(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"receivers", "processors", "exporters", "extensions", "connectors", "providers", "converters"} {
		list, _ := m[kind].([]any)
		for _, c := range list {
			e := c.(map[string]any)
			s := kind + " " + e["gomod"].(string)
			if imp, ok := e["import"].(string); ok {
				s += " " + imp
			}
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
