package edgeprofileextension

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.uber.org/zap"
	yaml "go.yaml.in/yaml/v3"
)

// OpAMP (https://github.com/open-telemetry/opamp-spec, specification.md) carries, for this
// extension:
//
//   - agent → server: the active preset in the AgentDescription's non_identifying_attributes
//     (edge_profile.* below). That description is synced state: every server sees it, also one
//     that connects later or asks for a full report (ReportFullState). The same document is
//     sent as a CustomMessage of type "status" in the custom capability below on every switch,
//     so a server that speaks the capability is told at once, with the last switches.
//   - server → agent: a CustomMessage of type "switch" in that capability, data
//     {"profile": "cloud", "reason": "..."}; or, for servers that only manage configuration, an
//     AgentRemoteConfig whose config_map has an "edge_profile" entry, body (YAML or JSON)
//     `profile: cloud`, answered with a RemoteConfigStatus (APPLIED or FAILED with the reason).
//
// A switch from the server is applied and persisted like one from the control API, with
// source "opamp".
const (
	OpAMPCapability      = "io.github.otelcol-virt.edge_profile"
	OpAMPMessageStatus   = "status"
	OpAMPMessageSwitch   = "switch"
	OpAMPRemoteConfigKey = "edge_profile"
	opampSwitchesSent    = 5
)

// Non-identifying attributes of the AgentDescription set by the extension.
const (
	AttrActive    = "edge_profile.active"
	AttrRequested = "edge_profile.requested"
	AttrSource    = "edge_profile.source"
	AttrReason    = "edge_profile.reason"
	AttrSince     = "edge_profile.since"
	AttrSwitches  = "edge_profile.last_switches"
)

// OpAMPStatus is the data of a "status" custom message.
type OpAMPStatus struct {
	Active    string    `json:"active"`
	Requested string    `json:"requested"`
	Source    string    `json:"source"`
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
	Switches  []Switch  `json:"switches"`
	// Error says why the last request from the server was refused.
	Error string `json:"error,omitempty"`
}

// OpAMPSwitch is the data of a "switch" custom message.
type OpAMPSwitch struct {
	Profile string `json:"profile"`
	Reason  string `json:"reason,omitempty"`
}

type opampAgent struct {
	e      *edgeProfile
	client client.OpAMPClient
	uid    types.InstanceUid
	unsub  func()
	wake   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup

	mu        sync.Mutex
	lastError string // refusal of the last server request, reported once
	connErr   string // last connection error logged, so a down server logs once
}

func (e *edgeProfile) startOpAMP(ctx context.Context) error {
	cfg := e.cfg.OpAMP
	uid, err := e.opampInstanceUID()
	if err != nil {
		return fmt.Errorf("opamp.instance_uid: %w", err)
	}
	a := &opampAgent{e: e, uid: uid, wake: make(chan struct{}, 1), done: make(chan struct{})}
	logger := opampLogger{e.logger.Sugar()}
	u, _ := url.Parse(cfg.Endpoint) // checked by Validate
	var tlsCfg *tls.Config
	switch u.Scheme {
	case "ws", "wss":
		a.client = client.NewWebSocket(logger)
	default:
		hc := client.NewHTTP(logger)
		if cfg.PollingInterval > 0 {
			hc.SetPollingInterval(cfg.PollingInterval)
		}
		a.client = hc
	}
	if u.Scheme == "wss" || u.Scheme == "https" {
		if tlsCfg, err = cfg.TLS.LoadTLSConfig(ctx); err != nil {
			return fmt.Errorf("opamp.tls: %w", err)
		}
	}
	if err := a.client.SetAgentDescription(a.description()); err != nil {
		return fmt.Errorf("opamp: %w", err)
	}
	if err := a.client.SetHealth(a.health()); err != nil {
		return fmt.Errorf("opamp: %w", err)
	}
	caps := protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus |
		protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsRemoteConfig |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsHealth
	if err := a.client.SetCapabilities(&caps); err != nil {
		return fmt.Errorf("opamp: %w", err)
	}
	if err := a.client.SetCustomCapabilities(&protobufs.CustomCapabilities{Capabilities: []string{OpAMPCapability}}); err != nil {
		return fmt.Errorf("opamp: %w", err)
	}
	header := http.Header{}
	for k, v := range cfg.Headers {
		header.Set(k, string(v))
	}
	// The client runs until Shutdown, beyond the Start context.
	err = a.client.Start(context.WithoutCancel(ctx), types.StartSettings{
		OpAMPServerURL: cfg.Endpoint,
		Header:         header,
		TLSConfig:      tlsCfg,
		InstanceUid:    uid,
		Callbacks: types.Callbacks{
			OnConnect:       func(context.Context) { a.connected() },
			OnConnectFailed: func(_ context.Context, err error) { a.connectFailed(err) },
			OnMessage:       a.onMessage,
		},
	})
	if err != nil {
		return fmt.Errorf("opamp: %w", err)
	}
	a.wg.Add(1)
	go a.reportLoop()
	// Subscribers run under the switch lock: only wake the report loop from there.
	a.unsub = e.Subscribe(func(string) { a.poke() })
	e.opamp = a
	e.logger.Info("edge_profile OpAMP client started", zap.String("endpoint", cfg.Endpoint), zap.String("instance_uid", uuid.UUID(uid).String()))
	return nil
}

func (a *opampAgent) stop(ctx context.Context) error {
	a.unsub()
	close(a.done)
	a.wg.Wait()
	return a.client.Stop(ctx)
}

func (a *opampAgent) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// reportLoop sends the description and a status message after every switch or request.
func (a *opampAgent) reportLoop() {
	defer a.wg.Done()
	for {
		select {
		case <-a.done:
			return
		case <-a.wake:
			a.report()
		}
	}
}

func (a *opampAgent) report() {
	if err := a.client.SetAgentDescription(a.description()); err != nil {
		a.e.logger.Warn("edge_profile cannot update the OpAMP agent description", zap.Error(err))
	}
	_ = a.client.SetHealth(a.health())
	a.mu.Lock()
	st := a.statusDoc()
	st.Error, a.lastError = a.lastError, ""
	a.mu.Unlock()
	data, _ := json.Marshal(st)
	msg := &protobufs.CustomMessage{Capability: OpAMPCapability, Type: OpAMPMessageStatus, Data: data}
	for range 50 { // one custom message is pending at a time; wait for the previous one
		sent, err := a.client.SendCustomMessage(msg)
		if !errors.Is(err, types.ErrCustomMessagePending) {
			if err != nil {
				a.e.logger.Debug("edge_profile OpAMP status message not sent", zap.Error(err))
			}
			return
		}
		select {
		case <-sent:
		case <-a.done:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *opampAgent) statusDoc() OpAMPStatus {
	st := a.e.status()
	sw := st.Switches
	if len(sw) > opampSwitchesSent {
		sw = sw[len(sw)-opampSwitchesSent:]
	}
	return OpAMPStatus{Active: st.Active, Requested: st.Requested, Source: st.Source, Reason: st.Reason, Since: st.Since, Switches: sw}
}

func (a *opampAgent) description() *protobufs.AgentDescription {
	bi := a.e.settings.BuildInfo
	name := bi.Command
	if name == "" {
		name = "otelcol-virt"
	}
	ident := []*protobufs.KeyValue{
		kv("service.name", name),
		kv("service.instance.id", uuid.UUID(a.uid).String()),
	}
	if bi.Version != "" {
		ident = append(ident, kv("service.version", bi.Version))
	}
	st := a.statusDoc()
	sw, _ := json.Marshal(st.Switches)
	non := []*protobufs.KeyValue{
		kv("os.type", runtime.GOOS),
		kv("host.arch", runtime.GOARCH),
		kv(AttrActive, st.Active),
		kv(AttrRequested, st.Requested),
		kv(AttrSource, st.Source),
		kv(AttrReason, st.Reason),
		kv(AttrSince, st.Since.UTC().Format(time.RFC3339Nano)),
		kv(AttrSwitches, string(sw)),
	}
	if hn, err := os.Hostname(); err == nil {
		non = append(non, kv("host.name", hn))
	}
	return &protobufs.AgentDescription{IdentifyingAttributes: ident, NonIdentifyingAttributes: non}
}

func (a *opampAgent) health() *protobufs.ComponentHealth {
	now := uint64(time.Now().UnixNano())
	h := &protobufs.ComponentHealth{Healthy: true, StartTimeUnixNano: uint64(a.e.started.UnixNano()), StatusTimeUnixNano: now,
		Status: "edge_profile active preset: " + a.e.Active()}
	for preset, why := range a.e.healthSnapshot(time.Now(), Environment{}) {
		if preset == a.e.Active() {
			h.Healthy, h.LastError = false, why
		}
	}
	return h
}

func kv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

func (a *opampAgent) connected() {
	a.mu.Lock()
	a.connErr = ""
	a.mu.Unlock()
	a.e.logger.Info("edge_profile connected to the OpAMP server", zap.String("endpoint", a.e.cfg.OpAMP.Endpoint))
	a.poke()
}

// connectFailed logs a failing server once per distinct error: the client retries with backoff.
func (a *opampAgent) connectFailed(err error) {
	a.mu.Lock()
	same := a.connErr == err.Error()
	a.connErr = err.Error()
	a.mu.Unlock()
	if !same {
		a.e.logger.Warn("edge_profile cannot reach the OpAMP server; retrying", zap.String("endpoint", a.e.cfg.OpAMP.Endpoint), zap.Error(err))
	}
}

func (a *opampAgent) onMessage(_ context.Context, msg *types.MessageData) {
	if cm := msg.CustomMessage; cm != nil && cm.Capability == OpAMPCapability {
		switch cm.Type {
		case OpAMPMessageSwitch:
			a.refuse(a.applySwitch(cm.Data))
		case OpAMPMessageStatus: // the server asks for the current status
		default:
			a.refuse(fmt.Errorf("unknown message type %q; send %q with {\"profile\": \"<name>\"}", cm.Type, OpAMPMessageSwitch))
		}
		a.poke()
	}
	if rc := msg.RemoteConfig; rc != nil {
		st := &protobufs.RemoteConfigStatus{LastRemoteConfigHash: rc.ConfigHash, Status: protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED}
		if err := a.applyRemoteConfig(rc); err != nil {
			st.Status, st.ErrorMessage = protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, err.Error()
			a.e.logger.Warn("edge_profile refuses the OpAMP remote configuration", zap.Error(err))
		}
		_ = a.client.SetRemoteConfigStatus(st)
		a.poke()
	}
}

func (a *opampAgent) refuse(err error) {
	if err == nil {
		return
	}
	a.e.logger.Warn("edge_profile refuses a switch from the OpAMP server", zap.Error(err))
	a.mu.Lock()
	a.lastError = err.Error()
	a.mu.Unlock()
}

func (a *opampAgent) applySwitch(data []byte) error {
	var req OpAMPSwitch
	if err := json.Unmarshal(data, &req); err != nil {
		return fmt.Errorf("switch message is not JSON: %w; send {\"profile\": \"<name>\"}", err)
	}
	return a.request(req)
}

func (a *opampAgent) request(req OpAMPSwitch) error {
	if req.Profile == "" {
		return errors.New("no profile named; send {\"profile\": \"<name>\"}")
	}
	reason := "set by the OpAMP server"
	if r := sanitizeReason(req.Reason); r != "" {
		reason += ": " + r
	}
	return a.e.setRequested(req.Profile, SourceOpAMP, reason)
}

// maxReasonRunes bounds what a server's reason may add to logs, the state file and /status.
const maxReasonRunes = 200

// sanitizeReason keeps a server-supplied reason printable and short: it is untrusted input
// that ends up in log lines and files.
func sanitizeReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxReasonRunes {
		s = string(r[:maxReasonRunes]) + "…"
	}
	return s
}

// applyRemoteConfig applies the "edge_profile" entry of a remote configuration.
func (a *opampAgent) applyRemoteConfig(rc *protobufs.AgentRemoteConfig) error {
	if rc.Config == nil || rc.Config.ConfigMap[OpAMPRemoteConfigKey] == nil {
		return fmt.Errorf("the remote configuration has no %q entry; this agent accepts only {%q: \"profile: <name>\"}", OpAMPRemoteConfigKey, OpAMPRemoteConfigKey)
	}
	body := rc.Config.ConfigMap[OpAMPRemoteConfigKey].Body
	var req struct {
		Profile string `yaml:"profile"`
		Reason  string `yaml:"reason"`
	}
	if err := yaml.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("%s: not YAML or JSON: %w; send profile: <name>", OpAMPRemoteConfigKey, err)
	}
	if req.Reason == "" {
		req.Reason = "remote configuration"
	}
	return a.request(OpAMPSwitch(req))
}

// opampInstanceUID returns the configured instance_uid, or one generated once and kept next to
// the state file: OpAMP servers track an agent by it across restarts.
func (e *edgeProfile) opampInstanceUID() (types.InstanceUid, error) {
	if s := e.cfg.OpAMP.InstanceUID; s != "" {
		u, err := uuid.Parse(s)
		return types.InstanceUid(u), err
	}
	path := strings.TrimSuffix(e.statePath, ".state.json") + ".opamp-instance-uid"
	if raw, err := os.ReadFile(path); err == nil {
		if u, err := uuid.Parse(strings.TrimSpace(string(raw))); err == nil {
			return types.InstanceUid(u), nil
		}
		e.logger.Warn("edge_profile OpAMP instance uid file is not a UUID; generating a new one", zap.String("file", path))
	}
	u, err := uuid.NewV7()
	if err != nil {
		return types.InstanceUid{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		err = os.WriteFile(path, []byte(u.String()+"\n"), 0o600)
		if err != nil {
			e.logger.Warn("edge_profile cannot keep the OpAMP instance uid; the server will see a new agent after a restart", zap.String("file", path), zap.Error(err))
		}
	}
	return types.InstanceUid(u), nil
}

// opampLogger routes the client's logs into the collector's logger at debug level: the errors
// it logs repeat on every retry, and connection failures are logged once per distinct error
// through OnConnectFailed instead.
type opampLogger struct{ l *zap.SugaredLogger }

func (o opampLogger) Debugf(_ context.Context, format string, v ...any) { o.l.Debugf(format, v...) }
func (o opampLogger) Errorf(_ context.Context, format string, v ...any) { o.l.Debugf(format, v...) }
