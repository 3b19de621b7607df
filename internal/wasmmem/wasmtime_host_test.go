//go:build cgo && linux

package wasmmem

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/testwasm"
	"github.com/otelcol-virt/otelcol-virt/internal/testwasm/wasmtimehost"
)

// The tests below run the project's WASI guests on the real wasmtime engine in a separate
// process: this test binary re-executed as the host (wasmtimehost.Main), so what is measured
// is that process's /proc, read from outside as the receiver will.

const hostEnv = "OTELCOL_VIRT_WASMTIMEHOST"

func TestMain(m *testing.M) {
	if os.Getenv(hostEnv) == "1" {
		if err := wasmtimehost.Main(os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "wasmtimehost:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type hostProc struct {
	pid     int
	stdin   io.WriteCloser
	events  *bufio.Scanner
	started []hostEvent
}

// guest is "name[,arg...]"; the module is built from internal/testwasm.
func startHost(t *testing.T, flags []string, guests ...string) *hostProc {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real wasmtime engine; skipped with -short")
	}
	args := append([]string{"-work", t.TempDir(), "-cache", filepath.Join(testwasm.Dir(), "wasmtime")}, flags...)
	for _, g := range guests {
		name, rest := g, ""
		for i := range g {
			if g[i] == ',' {
				name, rest = g[:i], g[i:]
				break
			}
		}
		args = append(args, "-i", name+"="+testwasm.Build(t, name)+rest)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), hostEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	h := &hostProc{pid: cmd.Process.Pid, stdin: stdin, events: bufio.NewScanner(stdout)}
	h.events.Buffer(nil, 4<<20)
	for {
		e := h.next(t)
		if e.Event == "ready" {
			break
		}
		h.started = append(h.started, e)
	}
	require.Len(t, h.started, len(guests))
	return h
}

func (h *hostProc) next(t *testing.T) hostEvent {
	t.Helper()
	require.True(t, h.events.Scan(), "host exited: %v", h.events.Err())
	var e hostEvent
	require.NoError(t, json.Unmarshal(h.events.Bytes(), &e))
	return e
}

func (h *hostProc) report(t *testing.T) hostEvent {
	t.Helper()
	_, err := io.WriteString(h.stdin, "report\n")
	require.NoError(t, err)
	return h.next(t)
}

// waitTouched waits until instance idx has touched want bytes (memgrow's own account).
func (h *hostProc) waitTouched(t *testing.T, idx int, want uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := h.report(t)
		if r.Instances[idx].Touched >= want {
			return
		}
		require.True(t, time.Now().Before(deadline), "instance %d touched %d of %d bytes", idx, r.Instances[idx].Touched, want)
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *hostProc) smaps(t *testing.T, fb *FileBuffer) []byte {
	t.Helper()
	b, err := fb.Read(SmapsPath("/proc", h.pid))
	require.NoError(t, err)
	return b
}

func (h *hostProc) byBase(rep Report) map[uint64]Memory {
	m := map[uint64]Memory{}
	for _, mem := range rep.Memories {
		m[mem.Base] = mem
	}
	return m
}

func mib(n uint64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }
