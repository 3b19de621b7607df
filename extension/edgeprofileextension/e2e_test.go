package edgeprofileextension_test

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/sampling"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// presetRun is one collector started from an example with edge_profile pointed at the sink.
type presetRun struct {
	col       *e2e.Collector
	otlpGRPC  string
	control   string
	storage   string
	configs   []string
	sets      []string
	env       map[string]string
	sink      *e2e.Sink
	telemetry string // the collector's own metrics endpoint, when set
}

// startPreset runs a configuration with edge_profile's backends pointed at the sink (gRPC and
// HTTP on their own ports, hence endpoints rather than the single endpoint) and every listener
// on a free loopback port.
func startPreset(t *testing.T, sink *e2e.Sink, configs []string, extraSets ...string) *presetRun {
	t.Helper()
	r := newPresetRun(t, sink, configs, extraSets...)
	r.start(t)
	return r
}

func newPresetRun(t *testing.T, sink *e2e.Sink, configs []string, extraSets ...string) *presetRun {
	t.Helper()
	r := &presetRun{sink: sink, otlpGRPC: e2e.FreeEndpoint(t), control: e2e.FreeEndpoint(t), storage: t.TempDir(), configs: configs}
	r.sets = append([]string{
		"extensions::edge_profile::endpoints::otlp_http=" + sink.HTTPEndpoint,
		"extensions::edge_profile::endpoints::otlp_grpc=http://" + sink.GRPCEndpoint,
		"extensions::edge_profile::storage_directory=" + r.storage,
		"extensions::edge_profile::control::endpoint=" + r.control,
		"receivers::otlp::protocols::grpc::endpoint=" + r.otlpGRPC,
	}, extraSets...)
	return r
}

func (r *presetRun) start(t *testing.T) {
	t.Helper()
	r.col = e2e.StartCollector(t, e2e.Options{Configs: r.configs, Set: r.sets, Env: r.env, TelemetryEndpoint: r.telemetry})
}

func example(name string) string { return filepath.Join(e2e.RepoRoot(), "examples", name+".yaml") }

// exampleSets neutralise the example's fixed loopback ports so tests can run side by side.
func exampleSets(t *testing.T) []string {
	return []string{
		"extensions::health_check::endpoint=" + e2e.FreeEndpoint(t),
		"receivers::otlp::protocols::http::endpoint=" + e2e.FreeEndpoint(t),
		"exporters::prometheus::endpoint=" + e2e.FreeEndpoint(t),
	}
}

func minimalConfig(t *testing.T, profile, extra string) string {
	return e2e.WriteConfig(t, fmt.Sprintf(`
extensions:
  edge_profile:
    profile: %s
%s
receivers:
  otlp:
    protocols:
      grpc:
service:
  extensions: [edge_profile]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [edge_profile]
`, profile, extra))
}

func telemetrygen(t testing.TB, args ...string) {
	t.Helper()
	bin := e2e.Tool(t, "telemetrygen")
	cmd := exec.Command(bin, append([]string{"traces"}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "telemetrygen: %s", out)
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test through the real binary; skipped with -short")
	}
}

func traceRequests(s *e2e.Sink) []e2e.Request {
	var out []e2e.Request
	for _, r := range s.Requests() {
		if r.Signal == "traces" {
			out = append(out, r)
		}
	}
	return out
}

// TestPresetsEndToEnd sends 10,000 spans (5,000 traces) through each example and checks what the
// backend sees: protocol, compression, batch sizes, the flush of the last partial batch and
// the sampled fraction.
func TestPresetsEndToEnd(t *testing.T) {
	skipShort(t)
	tests := []struct {
		preset    string
		protocol  e2e.Protocol
		encoding  string
		batch     int
		flush     time.Duration
		fraction  float64
		tolerance float64
	}{
		{"edge", e2e.ProtocolHTTP, "gzip", 32, 5 * time.Second, 0.10, 0.015},
		{"cloud", e2e.ProtocolGRPC, "", 512, 30 * time.Second, 1, 0},
		{"hybrid", e2e.ProtocolGRPC, "", 256, 15 * time.Second, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			t.Parallel()
			sink := e2e.NewSink(t)
			r := startPreset(t, sink, []string{example(tt.preset)}, exampleSets(t)...)
			// telemetrygen's smallest trace is two spans (a client and a server span), so 5,000
			// traces make 10,000 spans; sampling decides per trace.
			const spans = 10_000
			start := time.Now()
			telemetrygen(t, "--otlp-endpoint", r.otlpGRPC, "--otlp-insecure", "--traces", fmt.Sprint(spans/2),
				"--child-spans", "0", "--rate", "2500", "--workers", "1")
			sent := time.Now()

			// Full batches leave at once; the partial one waits for the flush interval.
			want := spans
			if tt.fraction < 1 {
				want = int(spans * (tt.fraction - tt.tolerance))
			}
			require.True(t, sink.WaitForCount("traces", want, tt.flush+30*time.Second), "only %d spans arrived", sink.SpanCount())
			// Wait past the flush interval of the last partial batch, then check nothing more comes.
			lastPartialDeadline := sent.Add(tt.flush + 5*time.Second)
			time.Sleep(time.Until(lastPartialDeadline))
			reqs := traceRequests(sink)
			got := sink.SpanCount()

			if tt.fraction == 1 {
				assert.Equal(t, spans, got, "every span arrives exactly once")
			} else {
				frac := float64(got) / spans
				assert.InDelta(t, tt.fraction, frac, tt.tolerance, "sampled fraction %.4f", frac)
			}
			partial := 0
			for _, req := range reqs {
				assert.Equal(t, tt.protocol, req.Protocol)
				assert.Equal(t, tt.encoding, req.Encoding, "Content-Encoding / grpc-encoding")
				// batch_size makes a request leave; only max_batch_size (4096) splits one.
				assert.LessOrEqual(t, req.Items(), 4096, "max_batch_size")
				if req.Items() < tt.batch {
					partial++
					// The partial batch is sent by the flush timer: not before flush after the
					// first span was sent, and within flush (plus slack) of the last.
					assert.GreaterOrEqual(t, req.Time.Sub(start), tt.flush-500*time.Millisecond, "partial batch flushed early")
					assert.LessOrEqual(t, req.Time.Sub(sent), tt.flush+3*time.Second, "partial batch flushed late")
				}
			}
			wire := 0
			for _, req := range reqs {
				wire += req.WireBytes
			}
			t.Logf("%s: %d of %d spans arrived (%.2f %%) in %d requests, %d bytes on the wire", tt.preset, got, spans, 100*float64(got)/spans, len(reqs), wire)
			assert.LessOrEqual(t, partial, 1, "one partial batch at the end at most")
			assert.LessOrEqual(t, len(reqs), got/tt.batch+1, "requests of at least batch_size, but one")

			st := status(t, r.control)
			assert.Equal(t, tt.preset, st.Active)
		})
	}
}

type statusDoc struct {
	Active    string `json:"active"`
	Requested string `json:"requested"`
	Source    string `json:"source"`
	Reason    string `json:"reason"`
	Switches  []struct {
		From, To, Source, Reason string
	} `json:"switches"`
}

func status(t *testing.T, control string) statusDoc {
	t.Helper()
	resp, err := http.Get("http://" + control + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st statusDoc
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func setProfile(t *testing.T, control, profile string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+control+"/profile", strings.NewReader(`{"profile":"`+profile+`"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
}

// sender is a real OTLP/gRPC client that sends single-span traces with random trace IDs and
// remembers which were accepted, and when.
type sender struct {
	client ptraceotlp.GRPCClient
	conn   *grpc.ClientConn

	mu       sync.Mutex
	accepted []sentSpan
	rejected int
}

type sentSpan struct {
	id          pcommon.SpanID
	trace       pcommon.TraceID
	start, done time.Time
}

func newSender(t *testing.T, endpoint string) *sender {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &sender{client: ptraceotlp.NewGRPCClient(conn), conn: conn}
}

// send sends n spans in one request; they count as accepted only when the collector said so.
func (s *sender) send(n int) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	batch := make([]sentSpan, n)
	now := time.Now()
	for i := range n {
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		_, _ = crand.Read(tid[:])
		_, _ = crand.Read(sid[:])
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(tid)
		sp.SetSpanID(sid)
		sp.SetName("e2e")
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		batch[i] = sentSpan{id: sid, trace: tid, start: now}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, err := s.client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	cancel()
	done := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.rejected += n
		return
	}
	for i := range batch {
		batch[i].done = done
	}
	s.accepted = append(s.accepted, batch...)
}

// steady sends 100 spans every 100 ms (1,000 spans/s) until stop is closed.
func (s *sender) steady(stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.send(100)
		}
	}
}

func (s *sender) snapshot() ([]sentSpan, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentSpan(nil), s.accepted...), s.rejected
}

// arrivals maps each span ID to the requests it arrived in.
func arrivals(sink *e2e.Sink) map[pcommon.SpanID][]e2e.Request {
	out := map[pcommon.SpanID][]e2e.Request{}
	for _, req := range traceRequests(sink) {
		rss := req.Traces.ResourceSpans()
		for i := range rss.Len() {
			sss := rss.At(i).ScopeSpans()
			for j := range sss.Len() {
				spans := sss.At(j).Spans()
				for k := range spans.Len() {
					out[spans.At(k).SpanID()] = append(out[spans.At(k).SpanID()], req)
				}
			}
		}
	}
	return out
}

var edgeThreshold = func() sampling.Threshold {
	th, err := sampling.ProbabilityToThresholdWithPrecision(0.10, 4)
	if err != nil {
		panic(err)
	}
	return th
}()

// sampledByEdge is the decision of the probabilistic sampler at 10 % in proportional mode:
// it depends on the trace ID only, so the test can predict it exactly.
func sampledByEdge(tid pcommon.TraceID) bool {
	return edgeThreshold.ShouldSample(sampling.TraceIDToRandomness(tid))
}

// TestLiveSwitch switches edge -> cloud -> edge through the control API under a steady
// 1,000 spans/s (checked by runLiveSwitch).
func TestLiveSwitch(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	r := startPreset(t, sink, []string{minimalConfig(t, "edge", "")})
	runLiveSwitch(t, r, func(p string) { setProfile(t, r.control, p) })
	st := status(t, r.control)
	assert.Equal(t, "edge", st.Active)
	require.GreaterOrEqual(t, len(st.Switches), 3)
	assert.Equal(t, "control", st.Switches[len(st.Switches)-1].Source)
}

// runLiveSwitch switches edge -> cloud -> edge with switchTo (which returns once the switch is
// applied) under a steady 1,000 spans/s and checks that every accepted span arrives once,
// through the preset that was active when it was accepted, and that each switch takes effect
// within one flush interval.
func runLiveSwitch(t *testing.T, r *presetRun, switchTo func(preset string)) {
	t.Helper()
	sink := r.sink
	s := newSender(t, r.otlpGRPC)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { s.steady(stop); close(done) }()

	type phase struct {
		preset     string
		begin, end time.Time // the switch request into this phase
	}
	phases := []phase{{preset: "edge"}}
	time.Sleep(6 * time.Second)
	for _, p := range []string{"cloud", "edge"} {
		begin := time.Now()
		switchTo(p)
		phases = append(phases, phase{preset: p, begin: begin, end: time.Now()})
		time.Sleep(8 * time.Second)
	}
	close(stop)
	<-done
	accepted, rejected := s.snapshot()
	require.Zero(t, rejected, "the collector refused spans")
	require.Greater(t, len(accepted), 15_000)

	// Which preset handled a span: the phase whose switch completed before the span was sent;
	// spans in flight during a switch may go either way.
	presetsFor := func(sp sentSpan) []string {
		for i := len(phases) - 1; i > 0; i-- {
			if sp.start.After(phases[i].end) {
				return []string{phases[i].preset}
			}
			if sp.done.After(phases[i].begin) {
				return []string{phases[i-1].preset, phases[i].preset}
			}
		}
		return []string{phases[0].preset}
	}
	expected := 0
	for _, sp := range accepted {
		ps := presetsFor(sp)
		if len(ps) == 1 && (ps[0] == "cloud" || sampledByEdge(sp.trace)) {
			expected++
		}
	}
	// The last cloud batch flushes after at most 30 s, the last edge batch after 5 s.
	ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool { return s.SpanCount() >= expected })
	time.Sleep(2 * time.Second)
	got := arrivals(sink)
	lost, dups, wrongPath := 0, 0, 0
	protocolOf := map[string]e2e.Protocol{"edge": e2e.ProtocolHTTP, "cloud": e2e.ProtocolGRPC}
	for _, sp := range accepted {
		ps := presetsFor(sp)
		reqs := got[sp.id]
		if len(reqs) > 1 {
			dups++
		}
		wantArrive := false
		for _, p := range ps {
			wantArrive = wantArrive || p == "cloud" || sampledByEdge(sp.trace)
		}
		mustArrive := len(ps) == 1 && wantArrive
		if mustArrive && len(reqs) == 0 {
			lost++
		}
		if len(reqs) > 0 && !wantArrive {
			wrongPath++ // arrived although no candidate preset would have kept it
		}
		if len(ps) == 1 && len(reqs) > 0 && reqs[0].Protocol != protocolOf[ps[0]] {
			wrongPath++
		}
	}
	t.Logf("accepted %d spans, expected at the sink %d, arrived %d, lost %d, duplicates %d, wrong preset %d",
		len(accepted), expected, sink.SpanCount(), lost, dups, wrongPath)
	assert.True(t, ok, "not everything arrived")
	assert.Zero(t, lost, "lost spans")
	assert.Zero(t, dups, "duplicates")
	assert.Zero(t, wrongPath, "spans handled by a preset that was not active")

	// Each new preset is applied within one flush interval of its switch: the first request
	// through the new preset's protocol carrying spans sent after the switch.
	for i, ph := range phases[1:] {
		var first time.Time
		for _, sp := range accepted {
			if sp.start.After(ph.end) && (i+2 >= len(phases) || sp.done.Before(phases[i+2].begin)) {
				for _, req := range got[sp.id] {
					if first.IsZero() || req.Time.Before(first) {
						first = req.Time
					}
				}
			}
		}
		flush := map[string]time.Duration{"edge": 5 * time.Second, "cloud": 30 * time.Second}[ph.preset]
		require.False(t, first.IsZero(), "nothing arrived through %s after the switch", ph.preset)
		assert.LessOrEqual(t, first.Sub(ph.end), flush, "switch to %s applied within one flush interval", ph.preset)
	}
}

// TestOutageAndRestart keeps the backend down on edge while spans keep coming, SIGKILLs the
// collector, restarts it, and checks that every accepted sampled span arrives once the backend
// is back (persistent queue, retries without end). The outage lasts about 25 s.
func TestOutageAndRestart(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	sink.SetFailing(true)
	// Retries back off to 2 s at most so the test need not wait the default 30 s after recovery.
	extra := `    presets:
      edge:
        exporter:
          retry_on_failure:
            initial_interval: 500ms
            max_interval: 2s`
	r := startPreset(t, sink, []string{minimalConfig(t, "edge", extra)})
	s := newSender(t, r.otlpGRPC)
	for range 50 {
		s.send(100)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(4 * time.Second) // batches are in flight, retrying
	r.col.Kill()
	require.Zero(t, sink.SpanCount())

	r.start(t)
	s2 := newSender(t, r.otlpGRPC)
	for range 50 {
		s2.send(100)
		time.Sleep(100 * time.Millisecond)
	}
	st := status(t, r.control)
	assert.Equal(t, "edge", st.Active)
	time.Sleep(5 * time.Second)
	sink.SetFailing(false)

	a1, rej1 := s.snapshot()
	a2, rej2 := s2.snapshot()
	accepted := append(a1, a2...)
	require.Zero(t, rej1+rej2, "the collector refused spans during the outage")
	expected := 0
	for _, sp := range accepted {
		if sampledByEdge(sp.trace) {
			expected++
		}
	}
	ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool {
		got := arrivals(s)
		for _, sp := range accepted {
			if sampledByEdge(sp.trace) && len(got[sp.id]) == 0 {
				return false
			}
		}
		return true
	})
	got := arrivals(sink)
	lost, dups := 0, 0
	for _, sp := range accepted {
		n := len(got[sp.id])
		if sampledByEdge(sp.trace) && n == 0 {
			lost++
		}
		if n > 1 {
			dups += n - 1
		}
	}
	t.Logf("outage: accepted %d spans, %d sampled, arrived %d, lost %d, duplicates %d (at-least-once after SIGKILL)",
		len(accepted), expected, sink.SpanCount(), lost, dups)
	assert.True(t, ok)
	assert.Zero(t, lost, "spans lost across the outage and the SIGKILL")
	for _, req := range traceRequests(sink) {
		assert.Equal(t, e2e.ProtocolHTTP, req.Protocol)
	}
}

// TestProfileSurvivesRestart switches through the control API and the watched file, restarts
// the collector and checks the active profile is restored; a corrupt state file falls back to
// the configured profile with a warning instead of failing.
func TestProfileSurvivesRestart(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	watch := filepath.Join(t.TempDir(), "profile")
	r := newPresetRun(t, sink, []string{minimalConfig(t, "edge", "    watch_file: "+watch)})
	r.telemetry = e2e.FreeEndpoint(t)
	r.start(t)
	setProfile(t, r.control, "hybrid")
	metrics := scrape(t, r.telemetry)
	assert.Regexp(t, `otelcol_edge_profile_active\S*\{[^}]*profile="hybrid"[^}]*\} 1\n`, metrics)
	assert.Regexp(t, `otelcol_edge_profile_active\S*\{[^}]*profile="edge"[^}]*\} 0\n`, metrics)
	assert.Regexp(t, `otelcol_edge_profile_switches\S*\{[^}]*from="edge"[^}]*source="control"[^}]*to="hybrid"[^}]*\} 1\n`, metrics)
	require.NoError(t, r.col.Stop())
	r.start(t)
	st := status(t, r.control)
	assert.Equal(t, "hybrid", st.Active)
	assert.Equal(t, "state", st.Source)

	require.NoError(t, writeFile(watch, "cloud\n"))
	require.Eventually(t, func() bool { return status(t, r.control).Active == "cloud" }, 10*time.Second, 200*time.Millisecond)
	assert.Equal(t, "file", status(t, r.control).Source)
	require.NoError(t, writeFile(watch, "satellite\n"))
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, "cloud", status(t, r.control).Active, "bad file content is ignored")
	assert.Contains(t, r.col.Output(), "edge_profile ignores the watched file")
	assert.Equal(t, 1, strings.Count(r.col.Output(), "edge_profile ignores the watched file"), "warned once, not on every poll")

	require.NoError(t, r.col.Stop())
	require.NoError(t, writeFile(filepath.Join(r.storage, "edge_profile.state.json"), "{not json"))
	require.NoError(t, writeFile(watch, ""))
	r.start(t)
	st = status(t, r.control)
	assert.Equal(t, "edge", st.Active, "corrupt state: back to the configured profile")
	assert.Contains(t, r.col.Output(), "edge_profile state file is unusable")
}

func scrape(t *testing.T, endpoint string) string {
	t.Helper()
	resp, err := http.Get("http://" + endpoint + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}

// TestAutoFollowsTheUplink runs auto mode against a backend port nobody listens on: the
// collector starts on the preset its resources suggest, switches to edge once the uplink
// probes keep failing, and leaves edge when the backend comes up, each time saying why.
func TestAutoFollowsTheUplink(t *testing.T) {
	skipShort(t)
	backend := e2e.FreeEndpoint(t) // closed until the test listens on it
	extra := `    endpoints:
      otlp_grpc: http://` + backend + `
      otlp_http: http://` + backend + `
    storage_directory: ` + t.TempDir() + `
    control:
      endpoint: CONTROL
    auto:
      interval: 500ms
      confirmations: 2
      min_dwell: 0s
      metered: false`
	control := e2e.FreeEndpoint(t)
	cfg := minimalConfig(t, "auto", strings.Replace(extra, "CONTROL", control, 1))
	e2e.StartCollector(t, e2e.Options{Configs: []string{cfg, "yaml:receivers::otlp::protocols::grpc::endpoint: " + e2e.FreeEndpoint(t)}})
	first := status(t, control)
	require.NotEmpty(t, first.Active)
	if first.Active == "edge" && !strings.Contains(first.Reason, "uplink") {
		t.Skipf("this machine's resources already select edge (%s): the uplink cannot change the choice", first.Reason)
	}
	require.Eventually(t, func() bool { return status(t, control).Active == "edge" }, 20*time.Second, 200*time.Millisecond,
		"auto mode never moved to edge with the uplink down")
	st := status(t, control)
	assert.Equal(t, "auto", st.Source)
	assert.Contains(t, st.Reason, "uplink failing")
	assert.Contains(t, st.Reason, backend)

	ln, err := net.Listen("tcp", backend)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	require.Eventually(t, func() bool { return status(t, control).Active != "edge" }, 20*time.Second, 200*time.Millisecond,
		"auto mode stayed on edge after the uplink recovered")
	st = status(t, control)
	assert.Equal(t, "auto", st.Source)
	assert.NotContains(t, st.Reason, "uplink failing")
	t.Logf("auto: started on %s (%s), moved to edge on the failing uplink, back to %s (%s)", first.Active, first.Reason, st.Active, st.Reason)
}
