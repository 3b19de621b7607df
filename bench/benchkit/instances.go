package benchkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"

	"sigs.k8s.io/yaml"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// StartInstances starts n long-sleeping processes under a distinct name, and writes the
// configuration of the user-defined runtime that matches them (comm ^bench-instance$) on
// instance_inventory, where the examples read instances. stop kills them.
func StartInstances(n int) (config string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "otelcol-virt-bench-")
	if err != nil {
		return "", nil, err
	}
	stopAll := func(cmds []*exec.Cmd) {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		_ = os.RemoveAll(dir)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		stopAll(nil)
		return "", nil, err
	}
	raw, err := os.ReadFile(sleep)
	if err != nil {
		stopAll(nil)
		return "", nil, err
	}
	bin := filepath.Join(dir, "bench-instance")
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		stopAll(nil)
		return "", nil, err
	}
	var cmds []*exec.Cmd
	for range n {
		c := exec.Command(bin, "86400")
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			stopAll(cmds)
			return "", nil, err
		}
		cmds = append(cmds, c)
	}
	runtimes := "extensions:\n  instance_inventory:\n    runtimes:\n      - {name: bench, kind: wasm, comm: '^bench-instance$'}\n"
	config = filepath.Join(dir, "instances.yaml")
	if err := os.WriteFile(config, []byte(runtimes), 0o644); err != nil {
		stopAll(cmds)
		return "", nil, err
	}
	return config, func() { stopAll(cmds) }, nil
}

// ListenerArgs move a collector's listeners to the given OTLP endpoints and free loopback
// ports: health_check and, when the distribution has it, the Prometheus exporter.
func ListenerArgs(otlp, otlpHTTP string, prometheus bool) []string {
	args := []string{
		"--set", "receivers::otlp::protocols::grpc::endpoint=" + otlp,
		"--set", "receivers::otlp::protocols::http::endpoint=" + otlpHTTP,
		"--set", "extensions::health_check::endpoint=" + FreeEndpoint(),
	}
	if prometheus {
		args = append(args, "--set", "exporters::prometheus::endpoint="+FreeEndpoint())
	}
	return args
}

// ExampleArgs are the arguments that run an example configuration (examples/<preset>.yaml, or
// a path of one's own) on otelcol-virt or otelcol-virt-edge against sink: the instances'
// configuration, the listeners, the edge_profile control port and queue directory, and the
// backend. The edge distribution has no Prometheus exporter: it runs a copy of the example
// without it, written to tmp.
func ExampleArgs(dist, example, instances, tmp string, sink *e2e.CountingSink, otlp, otlpHTTP string) ([]string, error) {
	edge := dist == "otelcol-virt-edge"
	if edge {
		var err error
		if example, err = withoutPrometheus(example, tmp); err != nil {
			return nil, err
		}
	}
	args := append([]string{"--config", example, "--config", instances}, ListenerArgs(otlp, otlpHTTP, !edge)...)
	return append(args,
		"--set", "extensions::edge_profile::control::endpoint="+FreeEndpoint(),
		"--set", "extensions::edge_profile::storage_directory="+tmp,
		"--set", "extensions::edge_profile::endpoints::otlp_http="+sink.HTTPEndpoint,
		"--set", "extensions::edge_profile::endpoints::otlp_grpc=http://"+sink.GRPCEndpoint,
	), nil
}

// withoutPrometheus writes a copy of an example without its Prometheus exporter.
func withoutPrometheus(example, tmp string) (string, error) {
	raw, err := os.ReadFile(example)
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("%s: %w", example, err)
	}
	if exps, ok := cfg["exporters"].(map[string]any); ok {
		delete(exps, "prometheus")
		if len(exps) == 0 {
			delete(cfg, "exporters")
		}
	}
	svc, _ := cfg["service"].(map[string]any)
	pipelines, _ := svc["pipelines"].(map[string]any)
	for _, p := range pipelines {
		pm, _ := p.(map[string]any)
		exps, _ := pm["exporters"].([]any)
		pm["exporters"] = slices.DeleteFunc(exps, func(e any) bool { return e == "prometheus" })
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	p := filepath.Join(tmp, "edge-distribution.yaml")
	return p, os.WriteFile(p, out, 0o644)
}

// Median of xs (0 for none); xs is left as it was.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MiB converts bytes to mebibytes.
func MiB(b int64) float64 { return float64(b) / (1 << 20) }
