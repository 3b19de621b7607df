package firecracker

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readAPI(t testing.TB, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "api", name))
	require.NoError(t, err)
	return data
}

func TestParseMachineConfig(t *testing.T) {
	mc, err := ParseMachineConfig(readAPI(t, "machine-config.json"))
	require.NoError(t, err)
	assert.Equal(t, MachineConfig{VCPUs: 2, MemSizeMiB: 1024}, mc)
	mc, err = ParseMachineConfig(readAPI(t, "machine-config.t2.json"))
	require.NoError(t, err)
	assert.Equal(t, MachineConfig{VCPUs: 4, MemSizeMiB: 2048}, mc)
	for _, bad := range []string{
		`{"vcpu_count":256,"mem_size_mib":1}`, // past u8
		`{"vcpu_count":-1,"mem_size_mib":1}`,
		`{"vcpu_count":1,"mem_size_mib":8796093022208}`, // 2^43 MiB = 2^63 bytes
		`{"vcpu_count":1}`,
		`{"mem_size_mib":1}`,
		`{"vcpu_count":1,"mem_size_mib":1}{}`,
		`{"vcpu_count":1,"mem_size_mib":1.5}`,
		`{"vcpu_count":1,"mem_s`,
	} {
		_, err := ParseMachineConfig([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestParseInstanceInfo(t *testing.T) {
	info, err := ParseInstanceInfo(readAPI(t, "instance-info.json"))
	require.NoError(t, err)
	assert.Equal(t, InstanceInfo{ID: "551e7604-e35c-42b3-b825-416853441234", State: "Running", VMMVersion: "1.17.0-dev", AppName: "Firecracker"}, info)
	assert.True(t, info.Started())
	info, err = ParseInstanceInfo(readAPI(t, "instance-info.not-started.json"))
	require.NoError(t, err)
	assert.False(t, info.Started())
	for _, bad := range []string{`{"state":"Booting"}`, `{"state":"running"}`, `{}`, `{"state":"Running","id":"` + strings.Repeat("a", 300) + `"}`} {
		_, err := ParseInstanceInfo([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// The client asks the two paths Firecracker routes, over its unix socket.
func TestAPIClient(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "firecracker.socket")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Write(readAPI(t, "instance-info.json"))
		case "/machine-config":
			w.Write(readAPI(t, "machine-config.json"))
		default:
			http.Error(w, `{"fault_message":"Invalid request method and/or path"}`, http.StatusBadRequest)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c := APIClient{Socket: sock}
	info, err := c.InstanceInfo(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Running", info.State)
	mc, err := c.MachineConfig(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint8(2), mc.VCPUs)
	_, err = APIClient{Socket: sock, MaxBodyBytes: 16}.MachineConfig(context.Background())
	assert.ErrorContains(t, err, "past the configured limit")
}

func FuzzParseAPI(f *testing.F) {
	f.Add(readAPI(f, "machine-config.json"))
	f.Add(readAPI(f, "instance-info.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if mc, err := ParseMachineConfig(b); err == nil && mc.MemSizeMiB > maxMemSizeMiB {
			t.Fatalf("accepted %+v", mc)
		}
		if info, err := ParseInstanceInfo(b); err == nil && len(info.ID) > maxIDBytes {
			t.Fatalf("accepted an id of %d bytes", len(info.ID))
		}
	})
}
