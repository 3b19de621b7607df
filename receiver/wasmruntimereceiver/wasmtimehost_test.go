package wasmruntimereceiver

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/testwasm"
)

// The tests of this package that run guests on the real wasmtime engine start the test host of
// internal/testwasm/wasmtimehost (wasmtime-go, cgo) as a separate process and read it from
// outside, as the receiver reads any runtime. The host binary is built here, named "wasmtime",
// so that the built-in catalog's wasmtime entry matches it and the receiver maps it to the
// wasmtime layout on its own: nothing in the receiver knows it is a test host. The receiver
// itself, and the distribution, stay CGO_ENABLED=0.

var (
	hostBuild    sync.Once
	hostBin      string
	hostBuildErr error
)

// wasmtimeHostBinary builds the host once per test process.
func wasmtimeHostBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real wasmtime engine; skipped with -short")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(goBin, "env", "CGO_ENABLED", "CC").Output(); err != nil {
		t.Fatalf("go env: %v", err)
	} else if f := strings.Fields(string(out)); len(f) < 2 || f[0] != "1" {
		t.Skip("the wasmtime test host needs cgo (CGO_ENABLED=1 and a C compiler)")
	} else if _, err := exec.LookPath(f[1]); err != nil {
		t.Skipf("the wasmtime test host needs a C compiler: %s not found", f[1])
	}
	hostBuild.Do(func() {
		dir := filepath.Join(testwasm.Dir(), "wasmtimehost-bin")
		if hostBuildErr = os.MkdirAll(dir, 0o755); hostBuildErr != nil {
			return
		}
		// Several test binaries may build at once: each links to its own file, then renames.
		tmp := filepath.Join(dir, "wasmtime."+strings.TrimPrefix(filepath.Base(os.Args[0]), ".")+"."+strconv.Itoa(os.Getpid()))
		cmd := exec.Command(goBin, "build", "-o", tmp, "./internal/testwasm/wasmtimehost/cmd/wasmtimehost")
		cmd.Dir = e2e.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			hostBuildErr = &buildError{err: err, out: string(out)}
			return
		}
		hostBin = filepath.Join(dir, "wasmtime")
		hostBuildErr = os.Rename(tmp, hostBin)
	})
	require.NoError(t, hostBuildErr, "building the wasmtime test host")
	return hostBin
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// hostEvent is one line of the host's stdout (wasmtimehost.Event; that package needs cgo, this
// file does not).
type hostEvent struct {
	Event     string `json:"event"`
	PID       int    `json:"pid"`
	Index     int    `json:"index"`
	Guest     string `json:"guest"`
	Base      uint64 `json:"base"`
	TID       int    `json:"tid"`
	Addr      string `json:"addr"`
	Dir       string `json:"dir"`
	Instances []struct {
		Index   int    `json:"index"`
		Present uint64 `json:"present"`
		Touched uint64 `json:"touched"`
	} `json:"instances"`
}

// wasmtimeHost is one running host process with several instances.
type wasmtimeHost struct {
	cmd     *exec.Cmd
	pid     int
	stdin   io.WriteCloser
	events  *bufio.Scanner
	started []hostEvent
	mu      sync.Mutex
}

// startWasmtimeHost runs guests ("name[,arg...]") in one wasmtime host process, inside g when
// g is not nil, with extra host flags.
func startWasmtimeHost(t *testing.T, g *cgrouptest.Group, flags []string, guests ...string) *wasmtimeHost {
	t.Helper()
	bin := wasmtimeHostBinary(t)
	args := append([]string{"-work", t.TempDir(), "-cache", filepath.Join(testwasm.Dir(), "wasmtime")}, flags...)
	for _, gs := range guests {
		name, rest, _ := strings.Cut(gs, ",")
		if rest != "" {
			rest = "," + rest
		}
		args = append(args, "-i", name+"="+testwasm.Build(t, name)+rest)
	}
	var cmd *exec.Cmd
	if g != nil {
		cmd = g.Command(bin, args...)
	} else {
		cmd = exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	h := &wasmtimeHost{cmd: cmd, pid: cmd.Process.Pid, stdin: stdin, events: bufio.NewScanner(stdout)}
	t.Cleanup(h.stop)
	h.events.Buffer(nil, 4<<20)
	for {
		e := h.next(t)
		if e.Event == "ready" {
			require.Equal(t, h.pid, e.PID, "the host execs in place (the cgroup shell replaces itself)")
			break
		}
		h.started = append(h.started, e)
	}
	require.Len(t, h.started, len(guests))
	return h
}

// stop kills the host and waits for it; safe to call twice.
func (h *wasmtimeHost) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd == nil {
		return
	}
	_ = syscall.Kill(-h.pid, syscall.SIGKILL)
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
	h.cmd = nil
}

func (h *wasmtimeHost) next(t *testing.T) hostEvent {
	t.Helper()
	require.True(t, h.events.Scan(), "wasmtime host exited: %v", h.events.Err())
	var e hostEvent
	require.NoError(t, json.Unmarshal(h.events.Bytes(), &e))
	return e
}

func (h *wasmtimeHost) report(t *testing.T) hostEvent {
	t.Helper()
	_, err := io.WriteString(h.stdin, "report\n")
	require.NoError(t, err)
	return h.next(t)
}

// waitTouched waits until instance idx has touched want bytes, by the guest's own account.
func (h *wasmtimeHost) waitTouched(t *testing.T, idx int, want uint64) hostEvent {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := h.report(t)
		if r.Instances[idx].Touched >= want {
			return r
		}
		require.True(t, time.Now().Before(deadline), "instance %d touched %d of %d bytes", idx, r.Instances[idx].Touched, want)
		time.Sleep(100 * time.Millisecond)
	}
}

// memoryIndex is the wasm_runtime.linear_memory.index the receiver gives each instance's memory
// when it first reads the host with every memory present: new memories take the smallest free
// index in address order (internal/wasmmem Tracker), so the index is the rank of its base.
func (h *wasmtimeHost) memoryIndex() []int {
	order := make([]int, len(h.started))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return h.started[order[a]].Base < h.started[order[b]].Base })
	idx := make([]int, len(h.started))
	for rank, inst := range order {
		idx[inst] = rank
	}
	return idx
}
