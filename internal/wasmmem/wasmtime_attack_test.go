//go:build cgo && linux

package wasmmem

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// The four attack-vector guests run on the real wasmtime engine, in one process, and each
// does its attack as seen from the host's /proc, not from the guests' own claims: CPU time
// on the cpuloop instance's thread, a memgrow linear memory and process RSS, files open in
// filespam's directory, established sockets held by the host for connspam.
func TestWasmtimeAttackVectors(t *testing.T) {
	h := startHost(t, nil, "cpuloop", "memgrow,128,0", "filespam,/data,200", "connspam")
	pid := strconv.Itoa(h.pid)
	cpu, mem, files, conns := h.started[0], h.started[1], h.started[2], h.started[3]

	// Connections: the guest accepts; the host only accepts when the guest asks.
	var clients []net.Conn
	t.Cleanup(func() {
		for _, c := range clients {
			_ = c.Close()
		}
	})
	for len(clients) < 100 {
		c, err := net.Dial("tcp", conns.Addr)
		require.NoError(t, err)
		clients = append(clients, c)
	}

	h.waitTouched(t, 1, 128<<20) // memgrow done: its thread sleeps from here on

	// CPU: the cpuloop thread's time grows at up to a core; the other instances' threads idle.
	t0 := time.Now()
	before := map[int]float64{}
	for _, st := range h.started {
		before[st.TID] = threadCPU(t, pid, st.TID)
	}
	time.Sleep(1500 * time.Millisecond)
	wall := time.Since(t0).Seconds()
	for _, st := range h.started {
		used := threadCPU(t, pid, st.TID) - before[st.TID]
		t.Logf("%-8s thread %d: %.2f s CPU in %.2f s", st.Guest, st.TID, used, wall)
		if st.TID == cpu.TID {
			assert.Greater(t, used, 0.25*wall, "cpuloop spins (a shared 2-core machine may not give it a whole core)")
			assert.LessOrEqual(t, used, wall*1.05, "one thread, at most one core")
		} else {
			assert.Less(t, used, 0.1*wall, "%s idles", st.Guest)
		}
	}

	// Memory: memgrow's linear memory holds what it touched, and the process shows it.
	var fb FileBuffer
	rep, err := NewTracker(Wasmtime).Update(h.smaps(t, &fb))
	require.NoError(t, err)
	m, ok := h.byBase(rep)[mem.Base]
	require.True(t, ok)
	assert.GreaterOrEqual(t, m.Resident, uint64(128<<20))
	largest, _ := rep.LargestMemory()
	assert.Equal(t, mem.Base, largest.Base)
	assert.GreaterOrEqual(t, vmRSS(t, pid), uint64(128<<20))

	// Files: 200 created in filespam's directory, all held open by the host process.
	deadline := time.Now().Add(30 * time.Second)
	var open int
	for {
		open = fdsUnder(t, pid, files.Dir)
		if open >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, 200, open, "descriptors into the guest's directory")
	entries, err := os.ReadDir(files.Dir)
	require.NoError(t, err)
	assert.Len(t, entries, 200)

	// Connections: established sockets owned by the host process.
	deadline = time.Now().Add(30 * time.Second)
	var est int
	for {
		est = established(t, pid)
		if est >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, 100, est, "the guest accepted and holds every connection")
}

func threadCPU(t *testing.T, pid string, tid int) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/task/" + strconv.Itoa(tid) + "/stat")
	require.NoError(t, err)
	st, _, err := proc.ParseStat(b)
	require.NoError(t, err)
	return float64(st.UTime+st.STime) / 100 // USER_HZ is 100 on Linux
}

func vmRSS(t *testing.T, pid string) uint64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err)
			return n << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func fdsUnder(t *testing.T, pid, dir string) int {
	ents, err := os.ReadDir("/proc/" + pid + "/fd")
	require.NoError(t, err)
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/" + pid + "/fd/" + e.Name()); err == nil && filepath.Dir(target) == dir {
			n++
		}
	}
	return n
}

func established(t *testing.T, pid string) int {
	ents, err := os.ReadDir("/proc/" + pid + "/fd")
	require.NoError(t, err)
	mine := map[uint64]bool{}
	for _, e := range ents {
		if target, err := os.Readlink("/proc/" + pid + "/fd/" + e.Name()); err == nil {
			if ino, ok := proc.SocketInode([]byte(target)); ok {
				mine[ino] = true
			}
		}
	}
	n := 0
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/" + pid + "/net/" + f)
		require.NoError(t, err)
		require.NoError(t, proc.ScanNetTCP(b, func(state uint8, inode uint64) {
			if state == 1 && mine[inode] {
				n++
			}
		}))
	}
	return n
}
