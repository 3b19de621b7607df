// Command virtprobe runs a collector binary inside the environment it is started in (a sandbox,
// a container, a VM's initramfs), sends spans through it and prints the resource attributes the
// collector's pipeline delivered to a sink, so that a test outside can check what the
// virtualization_attributes processor detected there without a network into the environment.
//
//	virtprobe -collector /otelcol-virt-edge [-timeout 90s]
//
// It listens on loopback only: an OTLP/gRPC sink and, for the collector, an OTLP/gRPC receiver.
// The result is one line on stdout: "VIRTPROBE-RESULT {json of the resource attributes}".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp_grpc exporter compresses with gzip by default
)

// ResultPrefix starts the line that carries the result.
const ResultPrefix = "VIRTPROBE-RESULT "

type sink struct {
	ptraceotlp.UnimplementedGRPCServer
	got chan map[string]any
}

func (s *sink) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		select {
		case s.got <- rss.At(i).Resource().Attributes().AsRaw():
		default:
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func main() {
	collector := flag.String("collector", "", "collector binary to run")
	timeout := flag.Duration("timeout", 90*time.Second, "how long to wait for the spans to come through")
	flag.Parse()
	if err := run(*collector, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "virtprobe:", err)
		os.Exit(1)
	}
}

func run(collector string, timeout time.Duration) error {
	if collector == "" {
		return fmt.Errorf("-collector is required")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	s := &sink{got: make(chan map[string]any, 16)}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, s)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	recv, err := freePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "virtprobe")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  virtualization_attributes:
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
`, recv, lis.Addr())), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(collector, "--config", cfg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", collector, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	conn, err := grpc.NewClient(recv, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("collector exited before the spans came through: %v", err)
		case attrs := <-s.got:
			b, err := json.Marshal(attrs)
			if err != nil {
				return err
			}
			fmt.Printf("%s%s\n", ResultPrefix, b)
			return nil
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(oneSpan()))
		cancel()
		select {
		case attrs := <-s.got:
			b, err := json.Marshal(attrs)
			if err != nil {
				return err
			}
			fmt.Printf("%s%s\n", ResultPrefix, b)
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("no spans at the sink within %s", timeout)
}

func oneSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "virtprobe")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("probe")
	sp.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sp.SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	now := time.Now()
	sp.SetStartTimestamp(pcommonTime(now.Add(-time.Millisecond)))
	sp.SetEndTimestamp(pcommonTime(now))
	return td
}
