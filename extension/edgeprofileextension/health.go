package edgeprofileextension

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/pipeline"
)

// Exporter health comes from component status events. What v0.165 delivers (module
// go.opentelemetry.io/collector/service v0.165.0, h1:jSUhKIsow5kGQSYkgT3F7b8UKXiYeb/FQBu+tB6TShY=):
// extensions/extensions.go NotifyComponentStatusChange calls
// extensioncapabilities.ComponentStatusWatcher.Changed on every extension, and
// internal/graph/graph.go reports Starting, OK, Stopping, Stopped and PermanentError (a failed
// Start or Shutdown) for each exporter. exporterhelper v0.165.0
// (h1:MDULG3NJ0geYpqRKPjy/kYyEGv55MzOOWoI4Mo7HW+w=) reports nothing on a failed send: no
// file of it imports componentstatus, nor do otlpexporter and otlphttpexporter v0.165.0. So an
// error event is acted on at once when an exporter does report one, and the uplink probe
// stays the fallback that catches a failing stock exporter.
var (
	_ extensioncapabilities.ComponentStatusWatcher = (*edgeProfile)(nil)
	_ componentstatus.Watcher                      = (*edgeProfile)(nil)
)

// exporterHealth is the last status one generated exporter reported.
type exporterHealth struct {
	Exporter string    `json:"exporter"`
	Status   string    `json:"status"`
	Error    string    `json:"error,omitempty"`
	Since    time.Time `json:"since"`

	status componentstatus.Status
}

func (h exporterHealth) failing() bool { return componentstatus.StatusIsError(h.status) }

// Changed implements extensioncapabilities.ComponentStatusWatcher (what the v0.165 service calls).
func (e *edgeProfile) Changed(source *componentstatus.InstanceID, event *componentstatus.Event) {
	e.ComponentStatusChanged(source, event)
}

// ComponentStatusChanged implements componentstatus.Watcher. It may run concurrently with
// Start, Shutdown and itself; it only records the event and wakes the auto loop.
func (e *edgeProfile) ComponentStatusChanged(source *componentstatus.InstanceID, event *componentstatus.Event) {
	if source == nil || event == nil || source.Kind() != component.KindExporter {
		return
	}
	preset := e.presetOfPipelines(source)
	if preset == "" {
		return
	}
	h := exporterHealth{Exporter: source.ComponentID().String(), Status: event.Status().String(), Since: event.Timestamp(), status: event.Status()}
	if err := event.Err(); err != nil {
		h.Error = err.Error()
	}
	e.healthMu.Lock()
	if e.health == nil {
		e.health = map[string]map[string]exporterHealth{}
	}
	if e.health[preset] == nil {
		e.health[preset] = map[string]exporterHealth{}
	}
	prev, had := e.health[preset][h.Exporter]
	e.health[preset][h.Exporter] = h
	e.healthMu.Unlock()
	if h.failing() && (!had || !prev.failing()) {
		select { // the auto loop re-evaluates now instead of at its next tick
		case e.healthChanged <- struct{}{}:
		default:
		}
	}
}

// presetOfPipelines finds the preset whose generated pipelines the component runs in.
func (e *edgeProfile) presetOfPipelines(source *componentstatus.InstanceID) string {
	names := Names{Extension: e.settings.ID}
	found := ""
	source.AllPipelineIDs(func(id pipeline.ID) bool {
		for preset := range e.presets {
			if id == names.Pipeline(id.Signal(), preset) {
				found = preset
				return false
			}
		}
		return true
	})
	return found
}

// healthSnapshot returns, per preset, the reason its exporters are failing; presets whose
// exporters are healthy (or never reported) are absent. A recoverable error no longer counts
// once the uplink probe has succeeded on every recent attempt after it and min_dwell has passed:
// an exporter of a preset that is not active gets no traffic, so it may never report OK.
func (e *edgeProfile) healthSnapshot(now time.Time, env Environment) map[string]string {
	e.healthMu.Lock()
	defer e.healthMu.Unlock()
	out := map[string]string{}
	for preset, exps := range e.health {
		for _, id := range sortedKeys(exps) {
			h := exps[id]
			if !h.failing() {
				continue
			}
			if h.status == componentstatus.StatusRecoverableError && env.UplinkAttempts > 0 && env.UplinkFailures == 0 &&
				now.Sub(h.Since) >= e.cfg.Auto.MinDwell {
				continue
			}
			why := fmt.Sprintf("exporter %s reports %s", id, h.Status)
			if h.Error != "" {
				why += ": " + h.Error
			}
			out[preset] = why
			break
		}
	}
	return out
}

func (e *edgeProfile) healthStatus() map[string][]exporterHealth {
	e.healthMu.Lock()
	defer e.healthMu.Unlock()
	out := map[string][]exporterHealth{}
	for preset, exps := range e.health {
		for _, id := range sortedKeys(exps) {
			out[preset] = append(out[preset], exps[id])
		}
	}
	return out
}

// avoidFailing replaces a proposal whose exporters fail with a healthy preset: edge first,
// whose persistent queue keeps what it accepts through an outage and a restart, then the
// others by name. With every preset failing it proposes edge for the same reason. It is pure.
func avoidFailing(proposal, why string, presets []string, failing map[string]string) (string, string, bool) {
	bad, ok := failing[proposal]
	if !ok {
		return proposal, why, false
	}
	candidates := append([]string(nil), presets...)
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i] == ProfileEdge && candidates[j] != ProfileEdge })
	for _, c := range candidates {
		if _, f := failing[c]; !f {
			return c, fmt.Sprintf("%s: %s; %s is healthy (%s proposed: %s)", proposal, bad, c, proposal, why), true
		}
	}
	if proposal != ProfileEdge && slices.Contains(presets, ProfileEdge) {
		return ProfileEdge, fmt.Sprintf("every preset's exporter reports an error (%s: %s); edge keeps what it accepts on disk", proposal, bad), true
	}
	return proposal, why, false
}
