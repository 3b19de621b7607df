package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	binenc "encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
)

// Limits the bad-input collector is configured with, so that oversized requests are cheap.
const (
	badInputMaxHTTPBody = 1 << 20 // receivers::otlp::protocols::http::max_request_body_size
	badInputMaxGRPCMiB  = 1       // receivers::otlp::protocols::grpc::max_recv_msg_size_mib
)

// badInputCollector runs otlp (gRPC + HTTP, 1 MiB limits) -> otlp_grpc exporter -> sink.
type badInputCollector struct {
	*Collector
	sink       *Sink
	grpcAddr   string
	httpAddr   string
	goodSpans  int
	grpcClient ptraceotlp.GRPCClient
}

func startBadInputCollector(t *testing.T) *badInputCollector {
	t.Helper()
	sink := NewSink(t)
	b := &badInputCollector{sink: sink, grpcAddr: FreeEndpoint(t), httpAddr: FreeEndpoint(t)}
	cfg := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
        max_recv_msg_size_mib: %d
      http:
        endpoint: %s
        max_request_body_size: %d
exporters:
  otlp_grpc:
    endpoint: %s
    compression: none
    tls: {insecure: true}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc]
`, b.grpcAddr, badInputMaxGRPCMiB, b.httpAddr, badInputMaxHTTPBody, sink.GRPCEndpoint)
	b.Collector = StartCollector(t, Options{Configs: []string{WriteConfig(t, cfg)}})
	conn, err := grpc.NewClient(b.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	b.grpcClient = ptraceotlp.NewGRPCClient(conn)
	return b
}

// testTraces returns n spans; with attrBytes > 0 one span carries a string attribute of that
// size (highly compressible), to build oversized requests that are otherwise valid.
func testTraces(n, attrBytes int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bad-input-test")
	ss := rs.ScopeSpans().AppendEmpty()
	now := time.Now()
	for i := range n {
		sp := ss.Spans().AppendEmpty()
		sp.SetName("span-" + strconv.Itoa(i))
		sp.SetTraceID([16]byte{1, 2, 3, byte(i >> 8), byte(i)})
		sp.SetSpanID([8]byte{4, 5, 6, byte(i >> 8), byte(i)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		if i == 0 && attrBytes > 0 {
			sp.Attributes().PutStr("padding", strings.Repeat("x", attrBytes))
		}
	}
	return td
}

func marshalTraces(t *testing.T, td ptrace.Traces) []byte {
	t.Helper()
	raw, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(t, err)
	return raw
}

func gzipBytes(t *testing.T, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// sendGood sends 10 valid spans over both protocols and checks they are accepted: after every
// bad request the collector must still take good data.
func (b *badInputCollector) sendGood(t *testing.T) {
	t.Helper()
	raw := marshalTraces(t, testTraces(5, 0))
	resp, err := http.Post("http://"+b.httpAddr+"/v1/traces", "application/x-protobuf", bytes.NewReader(raw))
	require.NoError(t, err, "the HTTP receiver must still accept connections")
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "a valid request after bad ones")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = b.grpcClient.Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(5, 0)))
	require.NoError(t, err, "a valid gRPC request after bad ones")
	b.goodSpans += 10
}

func (b *badInputCollector) requireUp(t *testing.T) {
	t.Helper()
	select {
	case <-b.Done():
		t.Fatalf("collector exited on bad input:\n%s", b.Output())
	default:
	}
	assert.NotContains(t, b.Output(), "panic:", "no panic in the collector log")
}

// The OTLP/HTTP receiver answers every malformed or oversized request with the status the
// otlpreceiver v0.165.0 and confighttp v1.71.0 code gives it (otlphttp.go, compression.go):
// 400 for undecodable bodies and bad or unknown encodings and for bodies over
// max_request_body_size (http.MaxBytesReader fails the read, which is reported as 400, not
// 413), 415 for a content type that is neither protobuf nor JSON. Nothing of a rejected
// request reaches the backend, and good data keeps flowing.
func TestBadInputOTLPHTTP(t *testing.T) {
	skipShort(t)
	b := startBadInputCollector(t)

	valid := marshalTraces(t, testTraces(3, 0))
	oversized := marshalTraces(t, testTraces(1, badInputMaxHTTPBody+badInputMaxHTTPBody/2))
	require.Greater(t, len(oversized), badInputMaxHTTPBody)
	bomb := gzipBytes(t, oversized)
	require.Less(t, len(bomb), badInputMaxHTTPBody/10, "the gzip bomb is small on the wire")

	cases := []struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		wantStatus  int
		wantInBody  string // a fragment of the error the receiver returns, "" to skip
	}{
		{"garbage protobuf", "application/x-protobuf", "", bytes.Repeat([]byte{0xff}, 64), http.StatusBadRequest, ""},
		{"truncated protobuf", "application/x-protobuf", "", valid[:len(valid)-7], http.StatusBadRequest, ""},
		{"garbage JSON", "application/json", "", []byte(`{"resourceSpans": [{"scopeSpans": [`), http.StatusBadRequest, ""},
		{"JSON with wrong types", "application/json", "", []byte(`{"resourceSpans": "not a list"}`), http.StatusBadRequest, ""},
		{"wrong content type", "text/plain", "", valid, http.StatusUnsupportedMediaType, "unsupported media type"},
		{"no content type", "", "", valid, http.StatusUnsupportedMediaType, "unsupported media type"},
		{"bad gzip", "application/x-protobuf", "gzip", valid, http.StatusBadRequest, ""},
		{"truncated gzip", "application/x-protobuf", "gzip", gzipBytes(t, valid)[:20], http.StatusBadRequest, ""},
		{"unknown content encoding", "application/x-protobuf", "br", valid, http.StatusBadRequest, "unsupported Content-Encoding"},
		{"oversized body", "application/x-protobuf", "", oversized, http.StatusBadRequest, "request body too large"},
		{"gzip bomb over the limit once decompressed", "application/x-protobuf", "gzip", bomb, http.StatusBadRequest, "request body too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+b.httpAddr+"/v1/traces", bytes.NewReader(c.body))
			require.NoError(t, err)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			if c.encoding != "" {
				req.Header.Set("Content-Encoding", c.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, c.wantStatus, resp.StatusCode, "response body: %q", truncate(body, 300))
			if c.wantInBody != "" {
				assert.Contains(t, string(body), c.wantInBody)
			}
			b.requireUp(t)
			b.sendGood(t)
		})
	}
	require.True(t, b.sink.WaitForCount("traces", b.goodSpans, 30*time.Second),
		"every good span arrives: %d of %d", b.sink.SpanCount(), b.goodSpans)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, b.goodSpans, b.sink.SpanCount(), "nothing of the rejected requests reached the backend")
	b.requireUp(t)
}

// grpcFrame is one length-prefixed gRPC message (compressed flag, 4-byte big-endian length).
func grpcFrame(compressed bool, msg []byte) []byte {
	out := make([]byte, 5, 5+len(msg))
	if compressed {
		out[0] = 1
	}
	binenc.BigEndian.PutUint32(out[1:], uint32(len(msg)))
	return append(out, msg...)
}

// rawGRPCExport sends body as a unary TraceService/Export call over cleartext HTTP/2 and
// returns the grpc-status code. It bypasses the gRPC client so that the test controls every
// byte, including a compressed flag over bytes that are not gzip.
func rawGRPCExport(t *testing.T, addr, encoding string, body []byte) (codes.Code, string) {
	t.Helper()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPost,
		"http://"+addr+"/opentelemetry.proto.collector.trace.v1.TraceService/Export", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	if encoding != "" {
		req.Header.Set("grpc-encoding", encoding)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// A trailers-only response carries grpc-status in the headers.
	status := resp.Trailer.Get("grpc-status")
	msg := resp.Trailer.Get("grpc-message")
	if status == "" {
		status, msg = resp.Header.Get("grpc-status"), resp.Header.Get("grpc-message")
	}
	n, err := strconv.Atoi(status)
	require.NoError(t, err, "grpc-status %q (HTTP %s)", status, resp.Status)
	return codes.Code(n), msg
}

// The OTLP/gRPC receiver answers as grpc-go v1.85 does before the receiver sees the message
// (rpc_util.go): ResourceExhausted for a message over max_recv_msg_size_mib, before or after
// decompression; Internal ("failed to unmarshal", "failed to decompress") for bytes that are not
// a valid request or not valid gzip. gRPC has no InvalidArgument for undecodable messages.
func TestBadInputOTLPGRPC(t *testing.T) {
	skipShort(t)
	b := startBadInputCollector(t)

	valid := marshalTraces(t, testTraces(3, 0))
	oversized := marshalTraces(t, testTraces(1, badInputMaxGRPCMiB<<20+1<<19))
	bomb := gzipBytes(t, oversized)

	cases := []struct {
		name     string
		encoding string
		body     []byte
		want     codes.Code
		wantMsg  string
	}{
		{"control: valid request", "", grpcFrame(false, valid), codes.OK, ""},
		{"garbage protobuf", "", grpcFrame(false, bytes.Repeat([]byte{0xff}, 64)), codes.Internal, "unmarshal"},
		{"truncated protobuf", "", grpcFrame(false, valid[:len(valid)-7]), codes.Internal, "unmarshal"},
		{"bad gzip", "gzip", grpcFrame(true, valid), codes.Internal, "decompress"},
		{"compressed flag without encoding", "", grpcFrame(true, valid), codes.Internal, ""},
		{"oversized message", "", grpcFrame(false, oversized), codes.ResourceExhausted, "larger than max"},
		{"gzip bomb over the limit once decompressed", "gzip", grpcFrame(true, bomb), codes.ResourceExhausted, "larger than max"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := rawGRPCExport(t, b.grpcAddr, c.encoding, c.body)
			assert.Equal(t, c.want, code, "grpc-message: %s", msg)
			if c.wantMsg != "" {
				assert.Contains(t, msg, c.wantMsg)
			}
			if c.want == codes.OK {
				b.goodSpans += 3
			}
			b.requireUp(t)
			b.sendGood(t)
		})
	}
	require.True(t, b.sink.WaitForCount("traces", b.goodSpans, 30*time.Second),
		"every good span arrives: %d of %d", b.sink.SpanCount(), b.goodSpans)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, b.goodSpans, b.sink.SpanCount(), "nothing of the rejected requests reached the backend")
	b.requireUp(t)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// invalidConfigCase is one invalid setting of a custom component: validate must fail with an
// error that names the field and says how to fix it.
type invalidConfigCase struct {
	name   string
	config string // the component's section, merged over a valid pipeline
	field  string // the field path as the error names it, e.g. "runtimes[0].kind"
	fix    string // a fragment of the advice the error gives
}

// invalidConfigCases lists the validation errors of every custom component. To add a case,
// append a line: the config fragment, the field the error must name and a piece of its advice.
var invalidConfigCases = []invalidConfigCase{
	// wasm_runtime receiver
	{"wasm_runtime/collection_interval zero", "receivers:\n  wasm_runtime:\n    collection_interval: 0s\n", "collection_interval", "collection_interval: 10s"},
	{"wasm_runtime/root_path relative", "receivers:\n  wasm_runtime:\n    root_path: host/fs\n", "root_path", "/hostfs"},
	{"wasm_runtime/runtime without name", "receivers:\n  wasm_runtime:\n    runtimes: [{kind: wasm, comm: '^x$'}]\n", "runtimes[0].name", "must not be empty"},
	{"wasm_runtime/runtime with unknown kind", "receivers:\n  wasm_runtime:\n    runtimes: [{name: x, kind: unikernel, comm: '^x$'}]\n", "runtimes[0].kind", "wasm, microvm, vm, sandbox, container"},
	{"wasm_runtime/runtime without matcher", "receivers:\n  wasm_runtime:\n    runtimes: [{name: x, kind: wasm}]\n", "runtimes[0]", "comm, exe or cmdline"},
	{"wasm_runtime/runtime with bad regexp", "receivers:\n  wasm_runtime:\n    runtimes: [{name: x, kind: wasm, cmdline: '(unclosed'}]\n", "runtimes[0].cmdline", "regular expression"},
	{"wasm_runtime/runtime names twice", "receivers:\n  wasm_runtime:\n    runtimes: [{name: x, kind: wasm, comm: a}, {name: x, kind: vm, comm: b}]\n", "runtimes[1].name", "unique"},

	// virtualization_attributes processor
	{"virtualization_attributes/root_path relative", "processors:\n  virtualization_attributes:\n    root_path: hostfs\n", "root_path", "/hostfs"},
	{"virtualization_attributes/refresh_interval negative", "processors:\n  virtualization_attributes:\n    refresh_interval: -1s\n", "refresh_interval", "use 0"},

	// edge_profile extension
	{"edge_profile/unknown profile", "extensions:\n  edge_profile:\n    profile: satellite\n", "profile", "define it under presets"},
	{"edge_profile/endpoint scheme", "extensions:\n  edge_profile:\n    endpoint: ftp://otlp.example.com\n", "endpoint", "http://"},
	{"edge_profile/endpoint not host:port", "extensions:\n  edge_profile:\n    endpoint: otlp example com\n", "endpoint", "otlp.example.com:4317"},
	{"edge_profile/control endpoint not host:port", "extensions:\n  edge_profile:\n    control:\n      endpoint: nonsense\n", "control.endpoint", "localhost:13134"},
	{"edge_profile/control endpoint public without token", "extensions:\n  edge_profile:\n    control:\n      endpoint: 0.0.0.0:13134\n", "control.endpoint", "bearer_token"},
	{"edge_profile/auto interval zero", "extensions:\n  edge_profile:\n    auto:\n      interval: 0s\n", "auto.interval", "30s"},
	{"edge_profile/auto confirmations zero", "extensions:\n  edge_profile:\n    auto:\n      confirmations: 0\n", "auto.confirmations", "at least 1"},
	{"edge_profile/preset batch size zero", "extensions:\n  edge_profile:\n    presets:\n      edge: {batch_size: 0}\n", "presets.edge.batch_size", "at least 1"},
	{"edge_profile/preset unknown protocol", "extensions:\n  edge_profile:\n    presets:\n      edge: {protocol: carrier_pigeon}\n", "presets.edge.protocol", "otlp_http or otlp_grpc"},
	{"edge_profile/preset unknown base", "extensions:\n  edge_profile:\n    presets:\n      mine: {base: nowhere}\n", "presets.mine.base", "defined under presets"},
	{"edge_profile/preset sampling out of range", "extensions:\n  edge_profile:\n    presets:\n      edge: {sampling_percentage: 150}\n", "presets.edge.sampling_percentage", "(0, 100]"},
	{"edge_profile/preset compression for grpc", "extensions:\n  edge_profile:\n    presets:\n      cloud: {compression: lz4}\n", "presets.cloud.compression", "use one of"},
}

// Every custom component rejects each invalid setting through `otelcol-virt validate`, with an
// error that names the field and the fix.
func TestInvalidConfigTable(t *testing.T) {
	skipShort(t)
	bin := CollectorBinary(t)
	const pipeline = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
`
	base := WriteConfig(t, pipeline)
	for _, c := range invalidConfigCases {
		t.Run(c.name, func(t *testing.T) {
			component, _, _ := strings.Cut(c.name, "/")
			out, err := exec.Command(bin, "validate", "--config", base, "--config", WriteConfig(t, c.config)).CombinedOutput()
			require.Error(t, err, "validate must fail:\n%s", out)
			assert.NotContains(t, string(out), "has invalid keys", "the case must exercise a setting the component knows")
			assert.Contains(t, string(out), component, "the error names the component")
			assert.Contains(t, string(out), c.field+":", "the error names the field")
			assert.Contains(t, string(out), c.fix, "the error says how to fix it")
			assert.NotContains(t, string(out), "panic")
		})
	}
}

// hostileTree writes a /proc and /sys look-alike that a careless reader would choke on: a
// sparse 1 GiB cmdline and cpuinfo, binary junk in text files, cgroup paths deep enough to
// approach PATH_MAX, symlink loops where exe, root and cgroup directories are expected.
func hostileTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		return p
	}
	write := func(rel string, data []byte) { require.NoError(t, os.WriteFile(mk(rel), data, 0o644)) }
	huge := func(rel string) {
		f, err := os.Create(mk(rel))
		require.NoError(t, err)
		require.NoError(t, f.Truncate(1<<30)) // sparse: no disk used, 1 GiB to read
		require.NoError(t, f.Close())
	}
	loop := func(rel, target string) { require.NoError(t, os.Symlink(target, mk(rel))) }
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(i*7919 + i>>3)
	}

	deep := strings.Repeat("d/", 900) // 1800 characters below the cgroup root
	for _, pid := range []string{"1", "4242", "99999"} {
		write("proc/"+pid+"/comm", junk[:4096])
		huge("proc/" + pid + "/cmdline")
		write("proc/"+pid+"/stat", junk)
		huge("proc/" + pid + "/status")
		write("proc/"+pid+"/cgroup", []byte("0::/"+deep+"\n12:memory:/"+deep+"x\n"+string(junk[:1024])))
		huge("proc/" + pid + "/environ")
		loop("proc/"+pid+"/exe", "exe")
		loop("proc/"+pid+"/root", ".")
		loop("proc/"+pid+"/cwd", "../"+pid+"/cwd")
		write("proc/"+pid+"/mountinfo", junk)
	}
	loop("proc/self", "self")
	huge("proc/cpuinfo")
	write("proc/version", junk[:512])
	write("proc/cmdline", junk[:8192])
	huge("proc/mounts")
	write("proc/stat", junk)
	write("proc/1/io", junk[:100])
	loop("proc/xen", "xen")

	for _, cg := range []string{"sys/fs/cgroup", "sys/fs/cgroup/unified", "sys/fs/cgroup/memory", "sys/fs/cgroup/cpu,cpuacct"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, cg, deep), 0o755))
		huge(cg + "/" + deep + "memory.stat")
		write(cg+"/"+deep+"cpu.stat", junk)
		write(cg+"/"+deep+"memory.max", junk[:64])
		huge(cg + "/" + deep + "cgroup.procs")
		loop(cg+"/loop", ".")
		loop(cg+"/"+deep+"back", "../../..")
		write(cg+"/cpu.pressure", junk[:300])
		huge(cg + "/memory.pressure")
	}
	for _, f := range []string{"sys_vendor", "product_name", "board_vendor", "bios_vendor", "product_uuid"} {
		write("sys/class/dmi/id/"+f, junk[:2048])
	}
	huge("sys/hypervisor/type")
	write("sys/hypervisor/properties/features", junk[:16])
	huge("sys/devices/system/clocksource/clocksource0/current_clocksource")
	write("sys/devices/system/clocksource/clocksource0/available_clocksource", junk[:256])
	huge("sys/firmware/devicetree/base/compatible")
	loop("sys/firmware/acpi/tables", "tables")
	write(".dockerenv", junk[:10])
	huge("run/systemd/container")
	return root
}

// The binary's root_path options pointed at a hostile tree: the collector comes up, keeps
// serving, does not panic or flood its log, and its memory stays bounded (a reader that slurps
// one of the sparse 1 GiB files would blow the bound).
func TestBadInputHostileRootPath(t *testing.T) {
	skipShort(t)
	bin := CollectorBinary(t)
	root := hostileTree(t)
	sink := NewSink(t)
	grpcAddr := FreeEndpoint(t)

	// Only use root_path where the component accepts it (their configs are still evolving).
	receiverCfg := "    root_path: " + root + "\n    collection_interval: 1s\n"
	processorCfg := "    root_path: " + root + "\n    refresh_interval: 1s\n"
	probe := fmt.Sprintf("receivers:\n  wasm_runtime:\n%sprocessors:\n  virtualization_attributes:\n%s", receiverCfg, processorCfg)
	pipeline := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %s}
exporters:
  otlp_grpc:
    endpoint: %s
    compression: none
    tls: {insecure: true}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
    metrics:
      receivers: [wasm_runtime]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
`, grpcAddr, sink.GRPCEndpoint)
	base := WriteConfig(t, pipeline)
	if out, err := exec.Command(bin, "validate", "--config", base, "--config", WriteConfig(t, probe)).CombinedOutput(); err != nil {
		t.Fatalf("the binary does not accept root_path on wasm_runtime and virtualization_attributes: %s", out)
	}

	c := StartCollector(t, Options{Binary: bin, Configs: []string{base, WriteConfig(t, probe)}})
	const rssBound = 400 << 20
	deadline := time.Now().Add(8 * time.Second)
	var peak int64
	for time.Now().Before(deadline) {
		select {
		case <-c.Done():
			t.Fatalf("collector exited on a hostile root:\n%s", c.Output())
		case <-time.After(250 * time.Millisecond):
		}
		if st, err := ReadProcStats(c.Pid()); err == nil {
			peak = max(peak, st.PeakRSSBytes)
		}
	}
	Telemetrygen(t, time.Minute, "traces", "--otlp-endpoint", grpcAddr, "--otlp-insecure",
		"--traces", "50", "--child-spans", "1", "--rate", "0")
	assert.True(t, sink.WaitForCount("traces", 100, 20*time.Second), "traces still flow through the processor: %d of 100", sink.SpanCount())
	if st, err := ReadProcStats(c.Pid()); err == nil {
		peak = max(peak, st.PeakRSSBytes)
	}
	t.Logf("peak RSS on the hostile root: %.1f MiB; log %d bytes", float64(peak)/(1<<20), len(c.Output()))
	assert.Less(t, peak, int64(rssBound), "peak RSS stays bounded")
	assert.NotContains(t, c.Output(), "panic")
	// 8 collection intervals over a tree full of errors: warnings must be counted or rate
	// limited, not repeated per file per scrape.
	assert.Less(t, len(c.Output()), 256<<10, "the log is not flooded:\n%s", truncate([]byte(c.Output()), 4000))
	require.NoError(t, c.Stop(), "clean shutdown")
}
