package wasmruntimereceiver

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
)

// threatEvent is one event record as the sink received it.
type threatEvent struct {
	name, state, reason string
	pid                 string
	value, bound        float64
	at                  time.Time
}

func threatEvents(s *e2e.Sink) []threatEvent {
	var out []threatEvent
	for _, r := range s.Requests() {
		if r.Signal != "logs" {
			continue
		}
		for i := 0; i < r.Logs.ResourceLogs().Len(); i++ {
			rl := r.Logs.ResourceLogs().At(i)
			pid := ""
			if v, ok := rl.Resource().Attributes().Get("process.pid"); ok {
				pid = v.AsString()
			}
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					if !strings.HasPrefix(lr.EventName(), threat.EventNamePrefix) {
						continue
					}
					ev := threatEvent{name: strings.TrimPrefix(lr.EventName(), threat.EventNamePrefix), pid: pid, at: lr.Timestamp().AsTime()}
					get := func(k string) string {
						if v, ok := lr.Attributes().Get(k); ok {
							return v.AsString()
						}
						return ""
					}
					num := func(k string) float64 {
						if v, ok := lr.Attributes().Get(k); ok {
							return v.Double()
						}
						return -1
					}
					ev.state, ev.reason = get(threat.AttrState), get(threat.AttrClearReason)
					ev.value, ev.bound = num(threat.AttrValue), num(threat.AttrBound)
					out = append(out, ev)
				}
			}
		}
	}
	return out
}

// eventsOf returns the states of rule's events for pid, in order ("firing", "cleared"...).
func eventsOf(evs []threatEvent, rule string, pid int) []threatEvent {
	var out []threatEvent
	for _, e := range evs {
		if e.name == rule && e.pid == strconv.Itoa(pid) {
			out = append(out, e)
		}
	}
	return out
}

func states(evs []threatEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.state)
	}
	return out
}

// TestThreatEventsEndToEnd runs the real binary with the wasm_runtime receiver in a logs pipeline
// next to Wasm guests under wazero, each reproducing one attack in a real cgroup, and checks that
// every threat event reaches the OTLP sink once when it starts and once when it stops.
func TestThreatEventsEndToEnd(t *testing.T) {
	needIntegration(t)
	all := cgrouptest.Limits{CPUQuotaUsec: 100000, CPUPeriodUsec: 100000, MemoryBytes: 512 << 20, Pids: 100}

	// 1. CPU loop under a 10 % quota: small enough that the loop uses all of it even when the
	// 2-core machine runs other test packages at once (under a 50 % quota a loaded machine gave
	// the loop less than the rule's 80 %, and rightly no event fired).
	cpuLimits := all
	cpuLimits.CPUQuotaUsec = 10000
	cpuGuest := startGuest(t, cgrouptest.New(t, cpuLimits), nil, "cpuloop")
	// 2. Memory growth toward a 128 MiB limit, then an OOM kill in the same cgroup. A Go guest
	// asking for 20 MiB makes wazero hold about 110 MiB of anonymous memory (measured), 85-90 %
	// of the limit, so the rule is set at 80 % to fire whatever the page cache does.
	memLimits := all
	memLimits.MemoryBytes = 128 << 20
	memGroup := cgrouptest.New(t, memLimits)
	memGuest := startGuest(t, memGroup, nil, "memgrow", "20")
	// 3. File spam: descriptors pile up.
	spamDir := t.TempDir()
	fileGuest := startGuest(t, cgrouptest.New(t, all), []string{"-mount", spamDir + ":/data"}, "filespam", "/data", "300")
	// 4. Connection spam, held by the guest.
	addr := "127.0.0.1:" + strconv.Itoa(e2e.FreePort(t))
	connGuest := startGuest(t, cgrouptest.New(t, all), []string{"-listen", addr}, "connspam")
	// 5. An instance without any limit.
	bareGuest := startGuest(t, cgrouptest.New(t, cgrouptest.Limits{}), nil, "memgrow", "8")

	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for deadline := time.Now().Add(10 * time.Second); len(conns) < 150; {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			require.True(t, time.Now().Before(deadline), "cannot connect to the guest: %v", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		conns = append(conns, c)
	}

	sink := e2e.NewSink(t)
	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
receivers:
  wasm_runtime:
    collection_interval: 1s
    runtimes:
      - name: wazero
        kind: wasm
        comm: ^wazero$
    include:
      runtimes: [wazero]
    threats:
      # A busy 2-core host starves the loop for seconds at a time (seen with parallel builds):
      # clear only after 30 calm scrapes, so only the guest's end clears it.
      cpu: {threshold: 0.8, consecutive_scrapes: 3, clear_scrapes: 30}
      memory: {threshold: 0.8}
      file_descriptors: {threshold: 250}
      file_creation: {threshold: 20}
      connections: {threshold: 100}
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
service:
  pipelines:
    logs:
      receivers: [wasm_runtime]
      exporters: [otlp_grpc]
`, sink.GRPCEndpoint))
	col := e2e.StartCollector(t, e2e.Options{Binary: e2e.CollectorBinary(t), Configs: []string{cfg}})

	waitEvent := func(rule string, pid int, state string, what string) threatEvent {
		t.Helper()
		var got threatEvent
		ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool {
			for _, e := range eventsOf(threatEvents(s), rule, pid) {
				if e.state == state {
					got = e
					return true
				}
			}
			return false
		})
		require.True(t, ok, "no %s %s event for %s (pid %d); events: %+v\ncollector output:\n%s", rule, state, what, pid, threatEvents(sink), col.Output())
		return got
	}

	cpu := waitEvent(threat.RuleCPUExhaustion, cpuGuest.Process.Pid, threat.StateFiring, "the CPU loop")
	assert.GreaterOrEqual(t, cpu.value, 0.8)
	assert.Equal(t, 0.8, cpu.bound)
	mem := waitEvent(threat.RuleMemoryExhaustion, memGuest.Process.Pid, threat.StateFiring, "the memory growth")
	assert.GreaterOrEqual(t, mem.value, 0.8)
	assert.Less(t, mem.value, 1.0)
	fds := waitEvent(threat.RuleFDExhaustion, fileGuest.Process.Pid, threat.StateFiring, "the file spam")
	assert.GreaterOrEqual(t, fds.value, 300.0)
	conn := waitEvent(threat.RuleConnectionFlood, connGuest.Process.Pid, threat.StateFiring, "the connection spam")
	assert.GreaterOrEqual(t, conn.value, 150.0)
	bare := waitEvent(threat.RuleMissingLimits, bareGuest.Process.Pid, threat.StateFiring, "the instance without limits")
	assert.Equal(t, 3.0, bare.value, "cpu, memory and pids are missing")

	// An OOM kill in the memory-limited cgroup: a hog the OOM killer prefers (oom_score_adj 1000)
	// fills what the guest left; the guest, and so the instance, lives on.
	hog := memGroup.Command("sh", "-c", "echo 1000 > /proc/self/oom_score_adj && exec tail /dev/zero")
	hog.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, hog.Start())
	t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
	oom := waitEvent(threat.RuleOOMKill, memGuest.Process.Pid, threat.StateFiring, "the OOM kill")
	assert.GreaterOrEqual(t, oom.value, 1.0)
	waitEvent(threat.RuleOOMKill, memGuest.Process.Pid, threat.StateCleared, "the OOM kill")

	// Holding is silent: a few more scrapes add no firing event.
	time.Sleep(3 * time.Second)

	// Clear: the guests stop (instance gone). Closing the client ends would not do: the guest
	// never closes its side, and sockets in close_wait are still held.
	stop := func(cmd *exec.Cmd) {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
	stop(cpuGuest)
	stop(fileGuest)
	stop(bareGuest)
	stop(memGuest)
	stop(connGuest)

	cleared := map[string]threatEvent{
		"cpu":  waitEvent(threat.RuleCPUExhaustion, cpuGuest.Process.Pid, threat.StateCleared, "the CPU loop"),
		"fd":   waitEvent(threat.RuleFDExhaustion, fileGuest.Process.Pid, threat.StateCleared, "the file spam"),
		"conn": waitEvent(threat.RuleConnectionFlood, connGuest.Process.Pid, threat.StateCleared, "the connection spam"),
		"bare": waitEvent(threat.RuleMissingLimits, bareGuest.Process.Pid, threat.StateCleared, "the instance without limits"),
		"mem":  waitEvent(threat.RuleMemoryExhaustion, memGuest.Process.Pid, threat.StateCleared, "the memory growth"),
	}
	for _, k := range []string{"cpu", "fd", "conn", "bare", "mem"} {
		assert.Equal(t, threat.ClearInstanceGone, cleared[k].reason, k)
	}
	require.NoError(t, col.Stop())

	evs := threatEvents(sink)
	for _, c := range []struct {
		rule string
		pid  int
	}{
		{threat.RuleCPUExhaustion, cpuGuest.Process.Pid},
		{threat.RuleMemoryExhaustion, memGuest.Process.Pid},
		{threat.RuleFDExhaustion, fileGuest.Process.Pid},
		{threat.RuleConnectionFlood, connGuest.Process.Pid},
		{threat.RuleMissingLimits, bareGuest.Process.Pid},
	} {
		assert.Equal(t, []string{threat.StateFiring, threat.StateCleared}, states(eventsOf(evs, c.rule, c.pid)),
			"%s on pid %d fires once and clears once", c.rule, c.pid)
	}
	for _, e := range evs {
		if e.pid == strconv.Itoa(cpuGuest.Process.Pid) || e.pid == strconv.Itoa(memGuest.Process.Pid) ||
			e.pid == strconv.Itoa(fileGuest.Process.Pid) {
			assert.NotEqual(t, threat.RuleMissingLimits, e.name, "instances with all limits have no posture event")
		}
	}
	t.Logf("file_spam events of the file spam guest (a rate needs two scrapes of the instance): %v",
		states(eventsOf(evs, threat.RuleFileSpam, fileGuest.Process.Pid)))
}
