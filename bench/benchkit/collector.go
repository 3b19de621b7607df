// Package benchkit holds what the benchmark programs (bench/driver, bench/gateway, hack/idle)
// share: a collector process started and stopped the same way, the instances its wasm_runtime
// receiver scrapes, the example arguments, and small statistics.
package benchkit

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// Collector is a started collector process whose output is kept for the ready check and errors.
type Collector struct {
	Cmd    *exec.Cmd
	out    e2e.SyncBuffer
	exited chan struct{} // closed once Wait returned
}

// Start starts cmd (its output captured, killed with this process), calls placed with its pid
// if not nil (to move it into a cgroup before it does any work), and waits up to 60 s for
// "Everything is ready".
func Start(cmd *exec.Cmd, placed func(pid int) error) (*Collector, error) {
	c := &Collector{Cmd: cmd}
	cmd.Stdout, cmd.Stderr = &c.out, &c.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if placed != nil {
		if err := placed(cmd.Process.Pid); err != nil {
			c.Stop()
			return nil, err
		}
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	c.exited = exited
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(c.out.String(), "Everything is ready") {
			return c, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("collector exited before it was ready:\n%s", c.out.String())
		default:
		}
	}
	c.Stop()
	return nil, fmt.Errorf("collector not ready after 60 s:\n%s", c.out.String())
}

// Pid is the collector's process id.
func (c *Collector) Pid() int { return c.Cmd.Process.Pid }

// Output is what the collector wrote so far.
func (c *Collector) Output() string { return c.out.String() }

// Stop sends SIGTERM and waits up to 30 s for the process to exit, then kills it.
func (c *Collector) Stop() {
	if c.exited == nil {
		exited := make(chan struct{})
		go func() { _ = c.Cmd.Wait(); close(exited) }()
		c.exited = exited
	}
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-c.exited
	}
}

// TelemetryArgs point the collector's detailed self-telemetry at a Prometheus pull endpoint.
func TelemetryArgs(endpoint string) []string {
	host, port, _ := strings.Cut(endpoint, ":")
	return []string{"--config", fmt.Sprintf("yaml:service::telemetry::metrics: {level: detailed, readers: [{pull: {exporter: {prometheus: {host: %q, port: %s, without_scope_info: true, without_type_suffix: false}}}}]}", host, port)}
}

// FreeEndpoint is a loopback address with a port free at the time of the call.
func FreeEndpoint() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("no free loopback port: %v", err))
	}
	defer l.Close()
	return l.Addr().String()
}
