package edgeprofileextension

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.uber.org/zap"
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
