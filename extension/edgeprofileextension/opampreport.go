package edgeprofileextension

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.uber.org/zap"
)

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
