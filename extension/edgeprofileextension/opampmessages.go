package edgeprofileextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.uber.org/zap"
	yaml "go.yaml.in/yaml/v3"
)

// onMessage applies what the server sends: a switch in the custom capability, or a remote
// configuration naming the preset. Both are untrusted input, checked like a control request.
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
