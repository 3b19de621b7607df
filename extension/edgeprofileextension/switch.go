package edgeprofileextension

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// initialProfile picks the profile at start: the persisted one unless the configuration was
// edited since it was written, then the watched file, then the configuration.
func (e *edgeProfile) initialProfile() {
	requested, source, reason := e.cfg.Profile, SourceConfig, "profile: "+e.cfg.Profile+" in the configuration"
	var persistedActive string
	st, err := readState(e.statePath, e.presets)
	switch {
	case err != nil:
		bad := e.statePath + ".corrupt"
		_ = os.Rename(e.statePath, bad)
		e.logger.Warn("edge_profile state file is unusable; starting from the configured profile",
			zap.String("file", e.statePath), zap.String("moved_to", bad), zap.Error(err),
			zap.String("profile", e.cfg.Profile))
	case st != nil && st.Configured != e.cfg.Profile:
		e.logger.Info("edge_profile configuration changed since the last run; the configured profile wins over the persisted one",
			zap.String("persisted", st.Requested), zap.String("configured", e.cfg.Profile))
	case st != nil:
		requested, source = st.Requested, SourceState
		reason = st.Reason // already says where it was restored from
		if st.Source != SourceState {
			reason = "restored from " + e.statePath + "; set by " + st.Source + ": " + st.Reason
		}
		persistedActive = st.Active
	}
	if name, ok := e.readWatchFile(); ok {
		requested, source, reason = name, SourceFile, "named in "+e.cfg.WatchFile
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requested = requested
	preset := requested
	if requested == ProfileAuto {
		if persistedActive != "" {
			preset = persistedActive
		} else {
			env := e.senseEnv()
			var why string
			preset, why = Decide(env)
			reason = "auto: " + why
			source = SourceAuto
			e.autoStatus = autoStatus{Proposal: preset, Reason: why, Decision: "initial choice", Evaluated: time.Now()}
		}
	}
	e.applyLocked(preset, source, reason)
}

// setRequested handles a request from the control API or the watched file.
func (e *edgeProfile) setRequested(name, source, reason string) error {
	if _, ok := e.presets[name]; !ok && name != ProfileAuto {
		return fmt.Errorf("unknown profile %q; use auto or one of %s", name, strings.Join(e.Presets(), ", "))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requested = name
	if name == ProfileAuto {
		e.hyst.candidate, e.hyst.streak = "", 0
		env := e.senseEnv()
		preset, why := Decide(env)
		e.autoStatus = autoStatus{Proposal: preset, Reason: why, Decision: "auto mode requested by " + source, Evaluated: time.Now()}
		e.applyLocked(preset, source, "auto mode requested: "+why)
		return nil
	}
	e.applyLocked(name, source, reason)
	return nil
}

// applyLocked makes preset the active one. A switch is one atomic store per routing connector;
// the previous preset's exporters keep draining their own queues, so nothing is dropped.
func (e *edgeProfile) applyLocked(preset, source, reason string) {
	prev := e.active.Load()
	if prev != nil && prev.Preset == preset {
		e.persistLocked(prev)
		return
	}
	now := time.Now()
	next := &activeState{Preset: preset, Since: now, Source: source, Reason: reason}
	e.active.Store(next)
	for _, fn := range e.subscribers {
		fn(preset)
	}
	from := ""
	if prev != nil {
		from = prev.Preset
	}
	e.history = append(e.history, Switch{Time: now, From: from, To: preset, Source: source, Reason: reason})
	if len(e.history) > historySize {
		e.history = e.history[len(e.history)-historySize:]
	}
	if e.switches != nil {
		e.switches.Add(context.Background(), 1, metric.WithAttributes(
			attribute.String("from", from), attribute.String("to", preset), attribute.String("source", source)))
	}
	if prev == nil {
		e.logger.Info("edge_profile active profile", zap.String("profile", preset), zap.String("source", source), zap.String("reason", reason))
	} else {
		e.logger.Info("edge_profile switched profile", zap.String("from", from), zap.String("to", preset), zap.String("source", source), zap.String("reason", reason))
	}
	e.persistLocked(next)
}

func (e *edgeProfile) persistLocked(a *activeState) {
	err := writeState(e.statePath, persistedState{
		Configured: e.cfg.Profile, Requested: e.requested, Active: a.Preset,
		Source: a.Source, Reason: a.Reason, Updated: time.Now().UTC(),
	})
	if err != nil {
		e.logger.Warn("edge_profile cannot persist the active profile; it will not survive a restart",
			zap.String("file", e.statePath), zap.Error(err))
	}
}
