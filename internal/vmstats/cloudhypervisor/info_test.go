package cloudhypervisor

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const gib = 1 << 30

func TestParseInfoFixtures(t *testing.T) {
	for name, want := range map[string]Info{
		// vm.resize to 2 of 4 vCPUs; 2 GiB + 512 MiB virtio-mem, a 256 MiB balloon.
		"vm.info.json": {State: "Running", VCPUs: 2, MaxVCPUs: 4, MemoryBytes: 2*gib + gib/2, ActualBytes: 2*gib + gib/2 - gib/4},
		// Not booted: the configured memory without what was hot-plugged.
		"vm.info.created.json": {State: "Created", VCPUs: 2, MaxVCPUs: 4, MemoryBytes: 2*gib + gib/2, ActualBytes: 2 * gib},
		// size=0 and two 1 GiB zones, one grown by 512 MiB.
		"vm.info.zones.json": {State: "Paused", VCPUs: 1, MaxVCPUs: 1, MemoryBytes: 2*gib + gib/2, ActualBytes: 2*gib + gib/2},
	} {
		body, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		got, err := ParseInfo(body, Limits{})
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}

func TestParseInfoRejects(t *testing.T) {
	body, err := os.ReadFile("testdata/vm.info.truncated")
	require.NoError(t, err)
	_, err = ParseInfo(body, Limits{})
	assert.Error(t, err, "truncated")
	full, _ := os.ReadFile("testdata/vm.info.json")
	_, err = ParseInfo(full, Limits{MaxBodyBytes: 512})
	assert.ErrorIs(t, err, ErrTooLarge)
	for _, bad := range []string{
		`{"state":"Running"}`, // no config
		`{"config":{"cpus":{"boot_vcpus":1},"memory":{"size":1}}}`,                            // no state
		`{"config":{"cpus":{"boot_vcpus":1},"memory":{"size":1}},"state":"Rebooting"}`,        // not a VmState
		`{"config":{"cpus":{"boot_vcpus":-1},"memory":{"size":1}},"state":"Running"}`,         // not a u32
		`{"config":{"cpus":{"boot_vcpus":4294967296},"memory":{"size":1}},"state":"Running"}`, // past u32
		`{"config":{"cpus":{"boot_vcpus":1},"memory":{"size":1.5}},"state":"Running"}`,
		`{"config":{"cpus":{"boot_vcpus":1},"memory":{"size":18446744073709551615,"hotplugged_size":1}},"state":"Running"}`, // wraps
		`{"config":{"cpus":{"boot_vcpus":1},"memory":{"size":9223372036854775808}},"state":"Running"}`,                      // past int64
		`{"config":{"cpus":{"boot_vcpus":1},"memory":{"size":1}},"state":"Running"} {}`,
		`[]`,
	} {
		_, err := ParseInfo([]byte(bad), Limits{})
		assert.Error(t, err, bad)
	}
}

func TestClientInfo(t *testing.T) {
	body, err := os.ReadFile("testdata/vm.info.json")
	require.NoError(t, err)
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/vm.info" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		w.Write(body)
	})
	info, err := Client{Socket: sock}.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint32(2), info.VCPUs)
	assert.Equal(t, "Running", info.State)

	// Before vm.create Cloud Hypervisor has no VM config: vm_info fails with VmNotCreated.
	noVM := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "VmNotCreated", http.StatusInternalServerError)
	})
	_, err = Client{Socket: noVM}.Info(context.Background())
	assert.ErrorContains(t, err, "500")
}

func FuzzParseInfo(f *testing.F) {
	for _, name := range []string{"vm.info.json", "vm.info.zones.json"} {
		body, _ := os.ReadFile("testdata/" + name)
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseInfo(b, Limits{})
		if err == nil && (info.MemoryBytes > 1<<63-1 || info.ActualBytes > 1<<63-1) {
			t.Fatalf("size past int64 accepted: %+v", info)
		}
	})
}
