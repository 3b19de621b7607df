package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyLine is what the collector logs once every pipeline has started.
const readyLine = "Everything is ready"

// Options describe one collector run.
type Options struct {
	// Binary defaults to CollectorBinary.
	Binary string
	// Configs are passed as --config, in order: file paths or provider URIs (yaml:, env:, ...).
	Configs []string
	// Set are passed as --set flags (e.g. "receivers::otlp::protocols::grpc::endpoint=127.0.0.1:1234").
	Set []string
	// Env is added to the environment of the process.
	Env map[string]string
	// TelemetryEndpoint, when set, serves the collector's own metrics there; otherwise they are
	// switched off so parallel collectors do not fight over the default port.
	TelemetryEndpoint string
	// StartTimeout bounds the wait for the ready line (default 60s).
	StartTimeout time.Duration
}

// Collector is a running otelcol-virt process.
type Collector struct {
	tb   testing.TB
	cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{}
	err  error
}

// WriteConfig writes content to a file in the test's temp dir and returns its path.
func WriteConfig(tb testing.TB, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// StartCollector starts the collector and waits until it reports ready. It is stopped with
// SIGTERM when the test ends; its output is logged if the test failed.
func StartCollector(tb testing.TB, opts Options) *Collector {
	tb.Helper()
	c, err := startCollector(tb, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func startCollector(tb testing.TB, opts Options) (*Collector, error) {
	bin := opts.Binary
	if bin == "" {
		bin = CollectorBinary(tb)
	}
	args := make([]string, 0, 2*len(opts.Configs)+len(opts.Set)+2)
	for _, c := range opts.Configs {
		args = append(args, "--config", c)
	}
	args = append(args, "--config", telemetryConfig(opts.TelemetryEndpoint))
	for _, s := range opts.Set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	for k, v := range opts.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c := &Collector{tb: tb, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	tb.Cleanup(func() {
		c.Stop()
		if tb.Failed() {
			tb.Logf("collector output:\n%s", c.Output())
		}
	})

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), readyLine) {
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("collector exited before it was ready (%v):\n%s", c.err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.Kill()
	return nil, fmt.Errorf("collector not ready after %s:\n%s", timeout, out.String())
}

// telemetryConfig returns a yaml: provider URI that sets the collector's own metrics endpoint.
func telemetryConfig(endpoint string) string {
	if endpoint == "" {
		return "yaml:service::telemetry::metrics::level: none"
	}
	host, port, _ := strings.Cut(endpoint, ":")
	return fmt.Sprintf("yaml:service::telemetry::metrics: {level: detailed, readers: [{pull: {exporter: {prometheus: {host: %q, port: %s, without_scope_info: true, without_type_suffix: false}}}}]}", host, port)
}

// Output returns everything the collector printed so far.
func (c *Collector) Output() string { return c.out.String() }

// Pid returns the process id of the collector.
func (c *Collector) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the process has exited.
func (c *Collector) Done() <-chan struct{} { return c.done }

// Stop sends SIGTERM and waits up to 30s for a clean exit, then kills the process. It returns
// the process's exit error (nil for a clean shutdown).
func (c *Collector) Stop() error {
	select {
	case <-c.done:
		return c.exitErr()
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.Kill()
		return errors.New("collector did not stop within 30s of SIGTERM")
	}
	return c.exitErr()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (c *Collector) Kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

func (c *Collector) exitErr() error {
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && ee.ExitCode() == -1 {
		return nil // ended by a signal we sent
	}
	return c.err
}

// WaitForOutput waits until the collector's output contains s.
func (c *Collector) WaitForOutput(ctx context.Context, s string) error {
	for {
		if strings.Contains(c.Output(), s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("collector output never contained %q", s)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes (a process's stdout and stderr,
// copied by exec.Cmd's goroutines) and reads (the test).
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ScrapeTelemetry returns the Prometheus text of a collector's own metrics endpoint (set with
// Options.TelemetryEndpoint), retrying until it answers with at least one otelcol_ metric.
func ScrapeTelemetry(tb testing.TB, endpoint string) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + endpoint + "/metrics")
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && strings.Contains(string(b), "otelcol_") {
				return string(b)
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no telemetry at %s: %v", endpoint, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
