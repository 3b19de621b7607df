package wasmruntimereceiver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A TCP table read while sockets come and go can print a line twice (each read(2) resumes at a
// bucket and an offset within it); the socket still counts once. Seen live: 155 established
// for a guest holding 150 while other tests opened and closed sockets.
func TestConnectionsCountedOncePerSocket(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	src, err := filepath.Abs(rootDir("v2-kubepods-systemd-runwasi"))
	require.NoError(t, err)
	out, err := exec.Command("cp", "-a", src, root).CombinedOutput()
	require.NoError(t, err, "%s", out)
	table := filepath.Join(root, "proc/901/net/tcp")
	b, err := os.ReadFile(table)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(b), "\n")
	require.Contains(t, lines[2], " 5002 ", "the instance's established socket")
	torn := strings.Join(lines[:3], "") + lines[2] + lines[1] + strings.Join(lines[3:], "")
	require.NoError(t, os.WriteFile(table, []byte(torn), 0o644))

	md, _ := scrapeDirWith(t, root, nil, nil)
	rm := mustResource(t, md, "901")
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "network.connection.state", "established"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "network.connection.state", "listen"))
}
