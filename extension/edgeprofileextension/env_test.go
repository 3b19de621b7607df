package edgeprofileextension

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(name string) string { return filepath.Join("testdata", "env", name) }

func TestEnvironmentFirecrackerV1(t *testing.T) {
	root := fixture("firecracker-v1")
	_, ok := cgroupCPULimit(root)
	assert.False(t, ok, "cfs_quota_us -1 is no limit")
	_, ok = cgroupMemoryLimit(root)
	assert.False(t, ok, "v1's huge limit is no limit")
	m, err := memTotal(root)
	require.NoError(t, err)
	assert.Equal(t, uint64(24684092*1024), m)
	metered, why := meteredUplink(root)
	assert.False(t, metered)
	assert.Equal(t, "default route via eth0", why)
}

func TestEnvironmentPodV2(t *testing.T) {
	root := fixture("pod-v2")
	c, ok := cgroupCPULimit(root)
	require.True(t, ok)
	assert.InDelta(t, 0.5, c, 1e-9)
	m, ok := cgroupMemoryLimit(root)
	require.True(t, ok)
	assert.Equal(t, uint64(256*mib), m)
	got, why := Decide(Environment{CPUs: c, MemoryBytes: m, Arch: "amd64", Kubernetes: true})
	assert.Equal(t, ProfileCloud, got, "a pod's 500m limit is a budget on a cluster node, not an edge box")
	assert.Contains(t, why, "KUBERNETES_SERVICE_HOST")
	assert.Contains(t, why, "0.5 CPUs, 256 MiB", "the resources are still named")
	got, why = Decide(Environment{CPUs: c, MemoryBytes: m, Arch: "amd64"})
	assert.Equal(t, ProfileEdge, got, "the same cgroup outside Kubernetes is an edge box")
	assert.Contains(t, why, "constrained resources: 0.5 CPUs, 256 MiB")
}

func TestEnvironmentPPP(t *testing.T) {
	metered, why := meteredUplink(fixture("ppp-uplink"))
	assert.True(t, metered)
	assert.Equal(t, "default route via PPP link ppp0", why)
}

func TestEnvironmentMissingFiles(t *testing.T) {
	root := t.TempDir()
	_, ok := cgroupCPULimit(root)
	assert.False(t, ok)
	_, ok = cgroupMemoryLimit(root)
	assert.False(t, ok)
	_, err := memTotal(root)
	assert.Error(t, err)
	metered, _ := meteredUplink(root)
	assert.False(t, metered)
}

func TestParseCPUMax(t *testing.T) {
	for in, want := range map[string]float64{"max 100000": 0, "50000 100000": 0.5, "200000 100000\n": 2, "x y": 0, "": 0, "-1 100000": 0} {
		got, ok := parseCPUMax(in)
		assert.Equal(t, want != 0, ok, in)
		assert.InDelta(t, want, got, 1e-9, in)
	}
}

func FuzzParseCPUMax(f *testing.F) {
	for _, s := range []string{"max 100000", "50000 100000", "1e308 1e-308", "NaN 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, ok := parseCPUMax(s); ok && !(c > 0) {
			t.Fatalf("ok with a non-positive limit %v for %q", c, s)
		}
	})
}

func FuzzParseProfileRequest(f *testing.F) {
	for _, s := range []string{"edge", "  cloud\n", `{"profile":"hybrid"}`, `{"profile":`, "", "{}", `{"profile":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		name, err := parseProfileRequest(raw)
		if err == nil && name == "" {
			t.Fatalf("accepted an empty profile from %q", raw)
		}
	})
}

func FuzzReadState(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"configured":"edge","requested":"cloud","active":"cloud"}`,
		`{"version":1,"configured":"edge","requested":"auto","active":"edge"}`,
		`{"version":1,"requested":"satellite","active":"edge"}`, "{", "",
	} {
		f.Add([]byte(s))
	}
	presets := Builtin()
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(t.TempDir(), "state.json")
		require.NoError(t, os.WriteFile(path, raw, 0o600))
		st, err := readState(path, presets)
		if err == nil && st != nil {
			if _, ok := presets[st.Active]; !ok {
				t.Fatalf("accepted unknown active preset %q", st.Active)
			}
		}
	})
}
