package edgeprofileextension

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server"
	"github.com/open-telemetry/opamp-go/server/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
)

// OpAMPTestServer is a real OpAMP server (opamp-go's server package) that records what agents
// report and can push messages to them.
type OpAMPTestServer struct {
	srv server.OpAMPServer

	mu      sync.Mutex
	conn    types.Connection
	header  http.Header
	reports []*protobufs.AgentToServer
	desc    *protobufs.AgentDescription // last description reported
	status  []OpAMPStatus               // "status" custom messages, in order
	rcs     *protobufs.RemoteConfigStatus
}

func StartOpAMPTestServer(t *testing.T) (*OpAMPTestServer, string) {
	t.Helper()
	s := &OpAMPTestServer{srv: server.New(nil)}
	err := s.srv.Start(server.StartSettings{
		ListenEndpoint: "127.0.0.1:0",
		Settings: server.Settings{
			CustomCapabilities: []string{OpAMPCapability},
			Callbacks: types.Callbacks{OnConnecting: func(r *http.Request) types.ConnectionResponse {
				s.mu.Lock()
				s.header = r.Header.Clone()
				s.mu.Unlock()
				return types.ConnectionResponse{Accept: true, ConnectionCallbacks: types.ConnectionCallbacks{
					OnConnected: func(_ context.Context, c types.Connection) {
						s.mu.Lock()
						s.conn = c
						s.mu.Unlock()
					},
					OnMessage: s.onMessage,
				}}
			}},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.srv.Stop(context.Background()) })
	return s, "ws://" + s.srv.Addr().String() + "/v1/opamp"
}

func (s *OpAMPTestServer) onMessage(_ context.Context, _ types.Connection, m *protobufs.AgentToServer) *protobufs.ServerToAgent {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports = append(s.reports, m)
	if m.AgentDescription != nil {
		s.desc = m.AgentDescription
	}
	if cm := m.CustomMessage; cm != nil && cm.Capability == OpAMPCapability && cm.Type == OpAMPMessageStatus {
		var st OpAMPStatus
		if json.Unmarshal(cm.Data, &st) == nil {
			s.status = append(s.status, st)
		}
	}
	if m.RemoteConfigStatus != nil {
		s.rcs = m.RemoteConfigStatus
	}
	return &protobufs.ServerToAgent{InstanceUid: m.InstanceUid}
}

func (s *OpAMPTestServer) send(t *testing.T, msg *protobufs.ServerToAgent) {
	t.Helper()
	require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.conn != nil }, 10*time.Second, 10*time.Millisecond, "the agent connects")
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	require.NoError(t, c.Send(context.Background(), msg))
}

func (s *OpAMPTestServer) SwitchTo(t *testing.T, profile, reason string) {
	t.Helper()
	data, _ := json.Marshal(OpAMPSwitch{Profile: profile, Reason: reason})
	s.send(t, &protobufs.ServerToAgent{CustomMessage: &protobufs.CustomMessage{Capability: OpAMPCapability, Type: OpAMPMessageSwitch, Data: data}})
}

func (s *OpAMPTestServer) Attr(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.desc == nil {
		return ""
	}
	for _, kv := range append(append([]*protobufs.KeyValue(nil), s.desc.IdentifyingAttributes...), s.desc.NonIdentifyingAttributes...) {
		if kv.Key == key {
			return kv.Value.GetStringValue()
		}
	}
	return ""
}

func (s *OpAMPTestServer) lastStatus() (OpAMPStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.status) == 0 {
		return OpAMPStatus{}, false
	}
	return s.status[len(s.status)-1], true
}

// WaitReport waits until the server has seen the agent report preset as active, both in the
// description (synced state) and in a status message, with reason in both.
func (s *OpAMPTestServer) WaitReport(t *testing.T, preset, reason string) OpAMPStatus {
	t.Helper()
	var st OpAMPStatus
	require.Eventually(t, func() bool {
		var ok bool
		st, ok = s.lastStatus()
		return ok && st.Active == preset && strings.Contains(st.Reason, reason) &&
			s.Attr(AttrActive) == preset && strings.Contains(s.Attr(AttrReason), reason)
	}, 10*time.Second, 20*time.Millisecond, "the server sees %s active because %q (last status %+v, description active %q)", preset, reason, st, s.Attr(AttrActive))
	return st
}

func TestOpAMPServerSwitchesAndSeesReasons(t *testing.T) {
	srv, endpoint := StartOpAMPTestServer(t)
	dir := t.TempDir()
	mutate := func(c *Config) {
		c.StorageDirectory = dir
		c.OpAMP.Endpoint = endpoint
		c.OpAMP.Headers = map[string]configopaque.String{"Authorization": "Bearer fleet-key"}
	}
	e, _ := newTestExtension(t, mutate)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))

	st := srv.WaitReport(t, ProfileEdge, "profile: edge in the configuration")
	assert.Equal(t, SourceConfig, st.Source)
	srv.mu.Lock()
	assert.Equal(t, "Bearer fleet-key", srv.header.Get("Authorization"), "opamp.headers reach the server")
	caps := srv.reports[0].Capabilities
	srv.mu.Unlock()
	assert.NotZero(t, caps&uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig))
	uid := srv.Attr("service.instance.id")
	_, err := uuid.Parse(uid)
	require.NoError(t, err, "service.instance.id is the instance uid")

	srv.SwitchTo(t, ProfileCloud, "fleet rollout 42")
	st = srv.WaitReport(t, ProfileCloud, "set by the OpAMP server: fleet rollout 42")
	assert.Equal(t, SourceOpAMP, st.Source)
	assert.Equal(t, ProfileCloud, e.Active())
	require.NotEmpty(t, st.Switches)
	last := st.Switches[len(st.Switches)-1]
	assert.Equal(t, Switch{Time: last.Time, From: ProfileEdge, To: ProfileCloud, Source: SourceOpAMP, Reason: "set by the OpAMP server: fleet rollout 42"}, last)

	srv.SwitchTo(t, ProfileEdge, "uplink budget exhausted")
	st = srv.WaitReport(t, ProfileEdge, "uplink budget exhausted")
	assert.Len(t, st.Switches, 3, "start, to cloud, back to edge")
	var sw []Switch
	require.NoError(t, json.Unmarshal([]byte(srv.Attr(AttrSwitches)), &sw))
	assert.Equal(t, []string{"", ProfileEdge, ProfileCloud}, []string{sw[0].From, sw[1].From, sw[2].From})

	// A refused request changes nothing and says why.
	srv.SwitchTo(t, "satellite", "typo")
	require.Eventually(t, func() bool {
		st, _ := srv.lastStatus()
		return strings.Contains(st.Error, `unknown profile "satellite"`)
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, ProfileEdge, e.Active())

	// The server's choice is persisted like any switch: after a restart the same agent (same
	// instance uid) comes back on it.
	srv.SwitchTo(t, ProfileHybrid, "night shift")
	srv.WaitReport(t, ProfileHybrid, "night shift")
	require.NoError(t, e.Shutdown(context.Background()))
	e2, _ := newTestExtension(t, mutate)
	start(t, e2)
	assert.Equal(t, ProfileHybrid, e2.Active())
	assert.Contains(t, e2.active.Load().Reason, "set by opamp: set by the OpAMP server: night shift")
	require.Eventually(t, func() bool { return srv.Attr(AttrSource) == SourceState }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, uid, srv.Attr("service.instance.id"), "the generated instance uid is kept")
}

func TestOpAMPRemoteConfigNamesThePreset(t *testing.T) {
	srv, endpoint := StartOpAMPTestServer(t)
	e, _ := newTestExtension(t, func(c *Config) { c.OpAMP.Endpoint = endpoint })
	start(t, e)
	srv.WaitReport(t, ProfileEdge, "configuration")

	remote := func(body, hash string) *protobufs.ServerToAgent {
		return &protobufs.ServerToAgent{RemoteConfig: &protobufs.AgentRemoteConfig{ConfigHash: []byte(hash), Config: &protobufs.AgentConfigMap{
			ConfigMap: map[string]*protobufs.AgentConfigFile{OpAMPRemoteConfigKey: {Body: []byte(body), ContentType: "text/yaml"}},
		}}}
	}
	srv.send(t, remote("profile: cloud\nreason: fleet config v7\n", "h1"))
	srv.WaitReport(t, ProfileCloud, "fleet config v7")
	require.Eventually(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.rcs != nil && string(srv.rcs.LastRemoteConfigHash) == "h1" && srv.rcs.Status == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED
	}, 10*time.Second, 20*time.Millisecond)

	srv.send(t, remote("profile: [", "h2"))
	require.Eventually(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.rcs != nil && string(srv.rcs.LastRemoteConfigHash) == "h2" && srv.rcs.Status == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED &&
			strings.Contains(srv.rcs.ErrorMessage, "edge_profile: not YAML or JSON")
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, ProfileCloud, e.Active())
}

func TestOpAMPServerDownOnlyWarnsOnce(t *testing.T) {
	e, logs := newTestExtension(t, func(c *Config) { c.OpAMP.Endpoint = "ws://127.0.0.1:1/v1/opamp" })
	start(t, e)
	assert.Equal(t, ProfileEdge, e.Active(), "the collector runs without its server")
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("cannot reach the OpAMP server").Len() >= 1 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(3 * time.Second) // several retries
	assert.Equal(t, 1, logs.FilterMessageSnippet("cannot reach the OpAMP server").Len())
}

func TestOpAMPConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg     OpAMPConfig
		wantErr string
	}{
		{OpAMPConfig{}, ""},
		{OpAMPConfig{Endpoint: "wss://opamp.example.com/v1/opamp"}, ""},
		{OpAMPConfig{Endpoint: "https://opamp.example.com/v1/opamp", InstanceUID: "0190f6a4-8c5e-7b4a-9d2e-3c1f0a6b7d8e", PollingInterval: time.Second}, ""},
		{OpAMPConfig{Endpoint: "grpc://opamp.example.com"}, `opamp.endpoint: scheme "grpc" is not supported`},
		{OpAMPConfig{Endpoint: "opamp.example.com:4320"}, "opamp.endpoint"},
		{OpAMPConfig{Endpoint: "ws://x/v1/opamp", InstanceUID: "agent-7"}, `opamp.instance_uid: "agent-7" is not a UUID`},
		{OpAMPConfig{InstanceUID: "0190f6a4-8c5e-7b4a-9d2e-3c1f0a6b7d8e"}, "opamp.endpoint: opamp settings are given but no endpoint"},
		{OpAMPConfig{Endpoint: "ws://x/v1/opamp", Headers: map[string]configopaque.String{"Bad Header": "x"}}, `opamp.headers: "Bad Header" is not a header name`},
		{OpAMPConfig{Endpoint: "ws://x/v1/opamp", PollingInterval: -time.Second}, "opamp.polling_interval: must not be negative"},
	} {
		err := c.cfg.validate()
		if c.wantErr == "" {
			assert.NoError(t, err, "%+v", c.cfg)
			continue
		}
		assert.ErrorContains(t, err, c.wantErr)
	}
}

func TestOpAMPInstanceUIDFileIsRecreated(t *testing.T) {
	e, logs := newTestExtension(t, nil)
	path := strings.TrimSuffix(e.statePath, ".state.json") + ".opamp-instance-uid"
	require.NoError(t, os.MkdirAll(e.cfg.StorageDirectory, 0o700))
	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	uid, err := e.opampInstanceUID()
	require.NoError(t, err)
	assert.Equal(t, 7, int(uuid.UUID(uid).Version()))
	assert.Equal(t, 1, logs.FilterMessageSnippet("instance uid file is not a UUID").Len())
	again, err := e.opampInstanceUID()
	require.NoError(t, err)
	assert.Equal(t, uid, again)
}

func TestSanitizeReason(t *testing.T) {
	assert.Equal(t, "rollout 42 [31mstep two", sanitizeReason("  rollout\t42\n\x1b[31mstep two\x00 "), "control characters (the escape) are gone")
	long := sanitizeReason(strings.Repeat("é", 500))
	assert.Equal(t, maxReasonRunes+1, len([]rune(long)))
	assert.True(t, strings.HasSuffix(long, "…"))
	assert.Empty(t, sanitizeReason("\n\t"))
}

// Over plain HTTP the agent polls; the server sees the same reports.
func TestOpAMPOverHTTPReports(t *testing.T) {
	srv, endpoint := StartOpAMPTestServer(t)
	e, _ := newTestExtension(t, func(c *Config) {
		c.OpAMP.Endpoint = strings.Replace(endpoint, "ws://", "http://", 1)
		c.OpAMP.PollingInterval = 100 * time.Millisecond
	})
	start(t, e)
	srv.WaitReport(t, ProfileEdge, "profile: edge in the configuration")
	require.NoError(t, e.setRequested(ProfileHybrid, SourceControl, "test switch"))
	st := srv.WaitReport(t, ProfileHybrid, "test switch")
	assert.Equal(t, SourceControl, st.Source, "every switch is reported, whatever its source")
}
