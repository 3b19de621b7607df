package e2e

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed gRPC requests
	"google.golang.org/grpc/metadata"
)

// Protocol is how a request reached the sink.
type Protocol string

// Protocols the sink serves.
const (
	ProtocolGRPC Protocol = "grpc"
	ProtocolHTTP Protocol = "http"
)

// Request is one export request the sink received.
type Request struct {
	Time     time.Time
	Protocol Protocol
	Signal   string // traces, metrics or logs
	// Encoding is the Content-Encoding (HTTP) or grpc-encoding (gRPC) header; "" when uncompressed.
	Encoding string
	// WireBytes is the size of the body as received, before decompression.
	WireBytes int
	Headers   map[string][]string
	Traces    ptrace.Traces
	Metrics   pmetric.Metrics
	Logs      plog.Logs
}

// Items returns the number of spans, data points or log records in the request.
func (r Request) Items() int {
	switch r.Signal {
	case "traces":
		return r.Traces.SpanCount()
	case "metrics":
		return r.Metrics.DataPointCount()
	case "logs":
		return r.Logs.LogRecordCount()
	}
	return 0
}

// Sink is an OTLP backend for tests: it accepts OTLP/gRPC and OTLP/HTTP and records every request.
type Sink struct {
	GRPCEndpoint string // host:port
	HTTPEndpoint string // http://host:port

	mu       sync.Mutex
	requests []Request
	fail     bool
	notify   chan struct{}

	grpcServer *grpc.Server
	httpServer *http.Server
}

// NewSink starts a sink on free loopback ports; it stops when the test ends.
func NewSink(tb testing.TB) *Sink {
	tb.Helper()
	return newSink(tb, nil)
}

// NewTLSSink is NewSink with both servers behind TLS (cfg, e.g. from NewTestPKI); HTTPEndpoint
// is then an https:// URL.
func NewTLSSink(tb testing.TB, cfg *tls.Config) *Sink {
	tb.Helper()
	return newSink(tb, cfg)
}

func newSink(tb testing.TB, tlsCfg *tls.Config) *Sink {
	tb.Helper()
	s := &Sink{notify: make(chan struct{}, 1)}

	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.GRPCEndpoint = gl.Addr().String()
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(64 << 20), grpc.StatsHandler(wireSizeHandler{})}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	s.grpcServer = grpc.NewServer(opts...)
	ptraceotlp.RegisterGRPCServer(s.grpcServer, &grpcTraces{s: s})
	pmetricotlp.RegisterGRPCServer(s.grpcServer, &grpcMetrics{s: s})
	plogotlp.RegisterGRPCServer(s.grpcServer, &grpcLogs{s: s})
	go func() { _ = s.grpcServer.Serve(gl) }()

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.HTTPEndpoint = "http://" + hl.Addr().String()
	if tlsCfg != nil {
		s.HTTPEndpoint = "https://" + hl.Addr().String()
		hl = tls.NewListener(hl, tlsCfg)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", s.handleHTTP("traces"))
	mux.HandleFunc("/v1/metrics", s.handleHTTP("metrics"))
	mux.HandleFunc("/v1/logs", s.handleHTTP("logs"))
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpServer.Serve(hl) }()

	tb.Cleanup(s.Close)
	return s
}

// Close stops both servers.
func (s *Sink) Close() {
	s.grpcServer.Stop()
	_ = s.httpServer.Close()
}

// SetFailing makes the sink answer every request with a retryable error (503 / Unavailable),
// as a backend in an outage does.
func (s *Sink) SetFailing(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

func (s *Sink) failing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *Sink) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Requests returns a copy of the requests received so far.
func (s *Sink) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns the number of items of a signal received so far.
func (s *Sink) Count(signal string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Signal == signal {
			n += r.Items()
		}
	}
	return n
}

// SpanCount returns the number of spans received so far.
func (s *Sink) SpanCount() int { return s.Count("traces") }

// WaitFor waits until cond holds or the timeout expires; it reports whether cond held.
func (s *Sink) WaitFor(timeout time.Duration, cond func(*Sink) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond(s) {
			return true
		}
		select {
		case <-deadline.C:
			return cond(s)
		case <-s.notify:
		case <-tick.C:
		}
	}
}

// WaitForCount waits until at least n items of the signal arrived.
func (s *Sink) WaitForCount(signal string, n int, timeout time.Duration) bool {
	return s.WaitFor(timeout, func(s *Sink) bool { return s.Count(signal) >= n })
}

func (s *Sink) handleHTTP(signal string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if s.failing() {
			http.Error(w, "sink is down", http.StatusServiceUnavailable)
			return
		}
		enc := req.Header.Get("Content-Encoding")
		body, err := decompress(enc, raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r := Request{Time: time.Now(), Protocol: ProtocolHTTP, Signal: signal, Encoding: enc, WireBytes: len(raw), Headers: req.Header.Clone()}
		isJSON := strings.HasPrefix(req.Header.Get("Content-Type"), "application/json")
		if err := r.decode(body, isJSON); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.record(r)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}
}

func (r *Request) decode(body []byte, isJSON bool) error {
	var err error
	switch r.Signal {
	case "traces":
		req := ptraceotlp.NewExportRequest()
		err = unmarshal(req.UnmarshalProto, req.UnmarshalJSON, body, isJSON)
		r.Traces = req.Traces()
	case "metrics":
		req := pmetricotlp.NewExportRequest()
		err = unmarshal(req.UnmarshalProto, req.UnmarshalJSON, body, isJSON)
		r.Metrics = req.Metrics()
	case "logs":
		req := plogotlp.NewExportRequest()
		err = unmarshal(req.UnmarshalProto, req.UnmarshalJSON, body, isJSON)
		r.Logs = req.Logs()
	}
	return err
}

func unmarshal(proto, json func([]byte) error, body []byte, isJSON bool) error {
	if isJSON {
		return json(body)
	}
	return proto(body)
}

func decompress(encoding string, raw []byte) ([]byte, error) {
	switch encoding {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case "deflate", "zlib":
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return nil, fmt.Errorf("sink: unsupported Content-Encoding %q", encoding)
}

func grpcRequest(ctx context.Context, signal string) Request {
	md, _ := metadata.FromIncomingContext(ctx)
	r := Request{Time: time.Now(), Protocol: ProtocolGRPC, Signal: signal, Headers: map[string][]string(md)}
	if enc := md.Get("grpc-encoding"); len(enc) > 0 && enc[0] != "identity" {
		r.Encoding = enc[0]
	}
	return r
}

var errSinkDown = grpcUnavailable("sink is down")

// recordGRPC answers a gRPC export: a retryable error while the sink is failing, otherwise the
// request, with fill copying its payload, is recorded.
func (s *Sink) recordGRPC(ctx context.Context, signal string, fill func(*Request)) error {
	if s.failing() {
		return errSinkDown
	}
	r := grpcRequest(ctx, signal)
	fill(&r)
	r.WireBytes = wireSize(ctx)
	s.record(r)
	return nil
}

type grpcTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	s *Sink
}

func (g *grpcTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	return ptraceotlp.NewExportResponse(), g.s.recordGRPC(ctx, "traces", func(r *Request) {
		r.Traces = ptrace.NewTraces()
		req.Traces().CopyTo(r.Traces)
	})
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	s *Sink
}

func (g *grpcMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	return pmetricotlp.NewExportResponse(), g.s.recordGRPC(ctx, "metrics", func(r *Request) {
		r.Metrics = pmetric.NewMetrics()
		req.Metrics().CopyTo(r.Metrics)
	})
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	s *Sink
}

func (g *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	return plogotlp.NewExportResponse(), g.s.recordGRPC(ctx, "logs", func(r *Request) {
		r.Logs = plog.NewLogs()
		req.Logs().CopyTo(r.Logs)
	})
}
