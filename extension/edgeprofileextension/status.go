package edgeprofileextension

import "time"

// autoStatus is the last evaluation of auto mode, shown in /status.
type autoStatus struct {
	Proposal  string    `json:"proposal,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Decision  string    `json:"decision,omitempty"`
	Evaluated time.Time `json:"evaluated,omitzero"`
	// Inputs are the facts the evaluation looked at (resources, probe, exporter health).
	Inputs []string `json:"inputs,omitempty"`
}

// Status is the JSON document of the status endpoint.
type Status struct {
	Active     string            `json:"active"`
	Requested  string            `json:"requested"`
	Since      time.Time         `json:"since"`
	Source     string            `json:"source"`
	Reason     string            `json:"reason"`
	Presets    map[string]Preset `json:"presets"`
	FlushTimes map[string]string `json:"flush_intervals"`
	Auto       autoStatus        `json:"auto"`
	Switches   []Switch          `json:"switches"`
	StateFile  string            `json:"state_file"`
	WatchFile  string            `json:"watch_file,omitempty"`
	Backend    map[string]string `json:"backend"`
	// AutoDecisions are the last distinct evaluations of auto mode, oldest first.
	AutoDecisions []autoStatus `json:"auto_decisions,omitempty"`
	// ExporterHealth is the last component status of each generated exporter, by preset.
	ExporterHealth map[string][]exporterHealth `json:"exporter_health,omitempty"`
}

func (e *edgeProfile) status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.active.Load()
	st := Status{
		Requested: e.requested, Presets: e.presets, Auto: e.autoStatus,
		Switches: append([]Switch(nil), e.history...), StateFile: e.statePath, WatchFile: e.cfg.WatchFile,
		FlushTimes: map[string]string{}, Backend: map[string]string{},
		AutoDecisions: append([]autoStatus(nil), e.decisions...), ExporterHealth: e.healthStatus(),
	}
	for n, p := range e.presets {
		st.FlushTimes[n] = p.FlushInterval.String()
	}
	for _, proto := range []string{ProtocolHTTP, ProtocolGRPC} {
		st.Backend[proto] = e.cfg.BackendEndpoint(proto)
	}
	if a != nil {
		st.Active, st.Since, st.Source, st.Reason = a.Preset, a.Since, a.Source, a.Reason
	}
	return st
}
