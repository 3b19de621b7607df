package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// CountingSink is an OTLP traces backend for long and heavy runs: unlike Sink it keeps no
// payloads, only counts (spans, requests, wire bytes), the delay from each span's end to its
// arrival, and optionally the ids seen, to count duplicates after a replay.
type CountingSink struct {
	GRPCEndpoint string // host:port
	HTTPEndpoint string // http://host:port

	trackIDs bool
	failing  atomic.Bool

	spans     atomic.Int64
	requests  atomic.Int64
	wireBytes atomic.Int64
	rejected  atomic.Int64 // requests answered with an error while failing

	mu        sync.Mutex
	ids       map[[24]byte]uint32
	latencies []float64 // seconds, capped at maxLatencySamples
	dupSpans  int64

	grpcServer *grpc.Server
	httpServer *http.Server
}

const maxLatencySamples = 2_000_000

// CountingSinkOptions configure a CountingSink.
type CountingSinkOptions struct {
	// TrackIDs records every (trace id, span id) to count unique and duplicate spans.
	TrackIDs bool
	// GRPCEndpoint, when set, is where the gRPC server listens (to restart a sink on the same
	// address); otherwise a free loopback port is used.
	GRPCEndpoint string
}

// StartCountingSink starts a counting sink on loopback. Stop it with Close.
func StartCountingSink(opts CountingSinkOptions) (*CountingSink, error) {
	s := &CountingSink{trackIDs: opts.TrackIDs, ids: map[[24]byte]uint32{}}
	addr := opts.GRPCEndpoint
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	gl, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.GRPCEndpoint = gl.Addr().String()
	s.grpcServer = grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.StatsHandler(wireSizeHandler{}))
	ptraceotlp.RegisterGRPCServer(s.grpcServer, &countingTraces{s: s})
	go func() { _ = s.grpcServer.Serve(gl) }()

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.grpcServer.Stop()
		return nil, err
	}
	s.HTTPEndpoint = "http://" + hl.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", s.handleHTTP)
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpServer.Serve(hl) }()
	return s, nil
}

// Close stops both servers.
func (s *CountingSink) Close() {
	s.grpcServer.Stop()
	_ = s.httpServer.Close()
}

// SetFailing makes the sink answer with a retryable error (Unavailable / 503), as a backend in
// an outage does.
func (s *CountingSink) SetFailing(fail bool) { s.failing.Store(fail) }

// Spans returns the number of spans received (duplicates included).
func (s *CountingSink) Spans() int64 { return s.spans.Load() }

// Requests returns the number of export requests accepted.
func (s *CountingSink) Requests() int64 { return s.requests.Load() }

// WireBytes returns the bytes received on the wire (compressed size), over accepted requests.
func (s *CountingSink) WireBytes() int64 { return s.wireBytes.Load() }

// Rejected returns the number of requests refused while failing.
func (s *CountingSink) Rejected() int64 { return s.rejected.Load() }

// UniqueSpans returns the number of distinct spans and of repeated deliveries (TrackIDs only).
func (s *CountingSink) UniqueSpans() (unique, duplicates int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.ids)), s.dupSpans
}

// LatencyQuantile returns the q-quantile (0..1) of span end to arrival delay.
func (s *CountingSink) LatencyQuantile(q float64) time.Duration {
	s.mu.Lock()
	l := slices.Clone(s.latencies)
	s.mu.Unlock()
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	i := int(q * float64(len(l)-1))
	return time.Duration(l[i] * float64(time.Second))
}

// ResetLatencies forgets the recorded delays (e.g. after a warm-up).
func (s *CountingSink) ResetLatencies() {
	s.mu.Lock()
	s.latencies = s.latencies[:0]
	s.mu.Unlock()
}

// WaitForSpans waits until at least n spans arrived (unique ones when tracking ids).
func (s *CountingSink) WaitForSpans(n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		got := s.Spans()
		if s.trackIDs {
			got, _ = s.UniqueSpans()
		}
		if got >= n {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *CountingSink) record(td ptrace.Traces, wire int) {
	now := time.Now()
	n := td.SpanCount()
	s.spans.Add(int64(n))
	s.requests.Add(1)
	s.wireBytes.Add(int64(wire))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			spans := ss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				if len(s.latencies) < maxLatencySamples {
					end := sp.EndTimestamp().AsTime()
					s.latencies = append(s.latencies, now.Sub(end).Seconds())
				}
				if s.trackIDs {
					var key [24]byte
					tid, sid := sp.TraceID(), sp.SpanID()
					copy(key[:16], tid[:])
					copy(key[16:], sid[:])
					if s.ids[key] > 0 {
						s.dupSpans++
					}
					s.ids[key]++
				}
			}
		}
	}
}

var errCountingSinkDown = grpcUnavailable("sink is down")

type countingTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	s *CountingSink
}

func (c *countingTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	if c.s.failing.Load() {
		c.s.rejected.Add(1)
		return ptraceotlp.NewExportResponse(), errCountingSinkDown
	}
	c.s.record(req.Traces(), wireSize(ctx))
	return ptraceotlp.NewExportResponse(), nil
}

func (s *CountingSink) handleHTTP(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.failing.Load() {
		s.rejected.Add(1)
		http.Error(w, "sink is down", http.StatusServiceUnavailable)
		return
	}
	body, err := decompress(req.Header.Get("Content-Encoding"), raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r := Request{Signal: "traces"}
	if err := r.decode(body, false); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.record(r.Traces, len(raw))
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}
