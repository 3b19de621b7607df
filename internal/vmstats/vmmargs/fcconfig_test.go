package vmmargs

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// The upstream documents of testdata/ORIGIN.
func TestParseFirecrackerConfigUpstream(t *testing.T) {
	data, err := os.ReadFile("testdata/firecracker-vm_config.json")
	require.NoError(t, err)
	c, err := ParseFirecrackerConfig(data)
	require.NoError(t, err)
	assert.Equal(t, FirecrackerConfig{VCPUs: 2, MemoryBytes: 1024 << 20}, c, `"metrics": null sets no path`)

	data, err = os.ReadFile("testdata/firecracker-metrics-block.json")
	require.NoError(t, err)
	c, err = ParseFirecrackerConfig(data)
	require.NoError(t, err)
	assert.Equal(t, FirecrackerConfig{MetricsPath: "metrics.fifo"}, c)
}

func TestParseFirecrackerConfigRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"vcpu_count 0":               `{"machine-config": {"vcpu_count": 0, "mem_size_mib": 128}}`,
		"vcpu_count past 32":         `{"machine-config": {"vcpu_count": 33, "mem_size_mib": 128}}`,
		"vcpu_count a string":        `{"machine-config": {"vcpu_count": "2", "mem_size_mib": 128}}`,
		"vcpu_count a fraction":      `{"machine-config": {"vcpu_count": 1.5, "mem_size_mib": 128}}`,
		"mem_size_mib negative":      `{"machine-config": {"vcpu_count": 1, "mem_size_mib": -1}}`,
		"mem_size_mib overflows":     `{"machine-config": {"vcpu_count": 1, "mem_size_mib": 9223372036854775807}}`,
		"metrics_path empty":         `{"metrics": {"metrics_path": ""}}`,
		"metrics_path with a NUL":    `{"metrics": {"metrics_path": "/a\u0000b"}}`,
		"metrics_path past PATH_MAX": `{"metrics": {"metrics_path": "/` + strings.Repeat("a", maxPath) + `"}}`,
		"not JSON":                   `machine-config: {}`,
		"two documents":              `{} {}`,
		"truncated":                  `{"machine-config": {"vcpu_count": 2,`,
	} {
		_, err := ParseFirecrackerConfig([]byte(doc))
		assert.ErrorIs(t, err, linuxfs.ErrMalformed, name)
	}
	_, err := ParseFirecrackerConfig(make([]byte, MaxFirecrackerConfig+1))
	assert.ErrorIs(t, err, linuxfs.ErrMalformed, "oversized")
}

func FuzzParseFirecrackerConfig(f *testing.F) {
	for _, name := range []string{"testdata/firecracker-vm_config.json", "testdata/firecracker-metrics-block.json"} {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseFirecrackerConfig(data)
		if err != nil {
			return
		}
		if c.VCPUs < 0 || c.VCPUs > maxFirecrackerVCPUs || c.MemoryBytes < 0 || len(c.MetricsPath) > maxPath {
			t.Fatalf("accepted %+v", c)
		}
	})
}
