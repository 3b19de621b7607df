package e2e

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// Telemetrygen runs the pinned telemetrygen (a real OTLP client) with args and returns its
// output; the test fails if it exits non-zero. For traces, each trace is one parent span plus
// --child-spans children, and v0.161.0 sends one child even with --child-spans 0: ask for
// N/2 traces with --child-spans 1 to send N spans.
func Telemetrygen(tb testing.TB, timeout time.Duration, args ...string) string {
	tb.Helper()
	bin, err := ToolPath("telemetrygen")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("telemetrygen %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// ExamplePorts are free loopback endpoints for everything the example configs listen on, so
// that several collectors can run side by side in tests.
type ExamplePorts struct {
	OTLPGRPC    string
	OTLPHTTP    string
	HealthCheck string
	Prometheus  string
	// EdgeProfileControl is the edge_profile control API; StateDir keeps its state file and
	// persistent queues out of the machine-wide default directory.
	EdgeProfileControl string
	StateDir           string
}

// NewExamplePorts picks free endpoints.
func NewExamplePorts(tb testing.TB) ExamplePorts {
	tb.Helper()
	return ExamplePorts{
		OTLPGRPC:    FreeEndpoint(tb),
		OTLPHTTP:    FreeEndpoint(tb),
		HealthCheck: FreeEndpoint(tb),
		Prometheus:  FreeEndpoint(tb),

		EdgeProfileControl: FreeEndpoint(tb),
		StateDir:           tb.TempDir(),
	}
}

// Set returns the --set overrides that move the examples' listeners to these endpoints.
func (p ExamplePorts) Set() []string {
	return []string{
		"receivers::otlp::protocols::grpc::endpoint=" + p.OTLPGRPC,
		"receivers::otlp::protocols::http::endpoint=" + p.OTLPHTTP,
		"extensions::health_check::endpoint=" + p.HealthCheck,
		"exporters::prometheus::endpoint=" + p.Prometheus,
		"extensions::edge_profile::control::endpoint=" + p.EdgeProfileControl,
		"extensions::edge_profile::storage_directory=" + p.StateDir,
	}
}
