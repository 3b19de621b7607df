package edgeprofileextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// Where a switch came from.
const (
	SourceConfig  = "config"
	SourceState   = "state"
	SourceControl = "control"
	SourceFile    = "file"
	SourceAuto    = "auto"
)

// ProfileSwitcher is what the routing connector finds through host.GetExtensions().
type ProfileSwitcher interface {
	// Presets lists the preset names the extension may activate.
	Presets() []string
	// Subscribe calls fn with the active preset now and after every switch, until the
	// returned function is called. fn must be cheap: it runs while the switch is applied.
	Subscribe(fn func(preset string)) (unsubscribe func())
}

// Switch records one change of the active preset.
type Switch struct {
	Time   time.Time `json:"time"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Source string    `json:"source"`
	Reason string    `json:"reason"`
}

type activeState struct {
	Preset string
	Since  time.Time
	Source string
	Reason string
}

type edgeProfile struct {
	cfg       *Config
	settings  extension.Settings
	logger    *zap.Logger
	presets   map[string]Preset
	statePath string

	active atomic.Pointer[activeState]

	mu          sync.Mutex // guards everything below and serialises switches
	requested   string     // a preset name or ProfileAuto
	subscribers map[int]func(string)
	nextSub     int
	history     []Switch
	autoStatus  autoStatus
	hyst        hysteresis
	uplinkMu    sync.Mutex
	uplink      []bool // recent probe results, true = failed; guarded by uplinkMu
	uplinkVia   string // the proxy of the last probe, empty when direct; guarded by uplinkMu
	fileContent string
	fileWarned  string

	switches  metric.Int64Counter
	metricReg metric.Registration

	server *http.Server
	stop   chan struct{}
	wg     sync.WaitGroup

	// senseEnv is replaceable in tests.
	senseEnv func() Environment
}

type autoStatus struct {
	Proposal  string    `json:"proposal,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Decision  string    `json:"decision,omitempty"`
	Evaluated time.Time `json:"evaluated,omitzero"`
}

const historySize = 32

func newEdgeProfile(cfg *Config, set extension.Settings) (*edgeProfile, error) {
	presets, err := cfg.ResolvePresets()
	if err != nil {
		return nil, err
	}
	e := &edgeProfile{
		cfg:         cfg,
		settings:    set,
		logger:      set.Logger,
		presets:     presets,
		statePath:   filepath.Join(cfg.StateDirectory(), strings.ReplaceAll(set.ID.String(), "/", "_")+".state.json"),
		subscribers: map[int]func(string){},
		hyst:        hysteresis{confirmations: cfg.Auto.Confirmations, minDwell: cfg.Auto.MinDwell},
		stop:        make(chan struct{}),
	}
	e.senseEnv = e.sense
	return e, nil
}

// Presets implements ProfileSwitcher.
func (e *edgeProfile) Presets() []string { return sortedKeys(e.presets) }

// Subscribe implements ProfileSwitcher.
func (e *edgeProfile) Subscribe(fn func(string)) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := e.nextSub
	e.nextSub++
	e.subscribers[id] = fn
	if a := e.active.Load(); a != nil {
		fn(a.Preset)
	}
	return func() {
		e.mu.Lock()
		delete(e.subscribers, id)
		e.mu.Unlock()
	}
}

// Active returns the active preset.
func (e *edgeProfile) Active() string {
	if a := e.active.Load(); a != nil {
		return a.Preset
	}
	return ""
}

func (e *edgeProfile) Start(context.Context, component.Host) error {
	if err := e.registerMetrics(); err != nil {
		return err
	}
	migrateQueues(e.cfg, Names{Extension: e.settings.ID}, e.presets, e.logger)
	e.initialProfile()
	if e.cfg.Control.Endpoint != "" {
		e.startControl()
	}
	if e.cfg.WatchFile != "" {
		e.wg.Add(1)
		go e.watchLoop()
	}
	e.wg.Add(1)
	go e.autoLoop()
	return nil
}

// startControl serves the control API. A port already in use is logged, not fatal: telemetry
// matters more than the management API, and a fatal error would become a crash loop.
func (e *edgeProfile) startControl() {
	ln, err := net.Listen("tcp", e.cfg.Control.Endpoint)
	if err != nil {
		e.logger.Error("edge_profile control API disabled: cannot listen; pick a free port in control.endpoint, or set it to \"\" to turn the API off",
			zap.String("endpoint", e.cfg.Control.Endpoint), zap.Error(err))
		return
	}
	e.server = &http.Server{Handler: e.controlHandler(), ReadHeaderTimeout: 5 * time.Second}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("edge_profile control API stopped", zap.Error(err))
		}
	}()
	e.logger.Info("edge_profile control API listening", zap.String("endpoint", ln.Addr().String()))
}

func (e *edgeProfile) Shutdown(ctx context.Context) error {
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	var err error
	if e.server != nil {
		err = e.server.Shutdown(ctx)
	}
	e.wg.Wait()
	if e.metricReg != nil {
		_ = e.metricReg.Unregister()
	}
	return err
}

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

func (e *edgeProfile) registerMetrics() error {
	meter := e.settings.MeterProvider.Meter("github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension")
	var err error
	e.switches, err = meter.Int64Counter("otelcol_edge_profile_switches",
		metric.WithDescription("Switches of the active edge_profile preset, by previous and new preset and by source (config, state, control, file, auto)."),
		metric.WithUnit("{switch}"))
	if err != nil {
		return err
	}
	active, err := meter.Int64ObservableGauge("otelcol_edge_profile_active",
		metric.WithDescription("1 for the active edge_profile preset, 0 for the others."),
		metric.WithUnit("1"))
	if err != nil {
		return err
	}
	e.metricReg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		cur := e.Active()
		for _, name := range e.Presets() {
			v := int64(0)
			if name == cur {
				v = 1
			}
			o.ObserveInt64(active, v, metric.WithAttributes(attribute.String("profile", name)))
		}
		return nil
	}, active)
	return err
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
}

func (e *edgeProfile) status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.active.Load()
	st := Status{
		Requested: e.requested, Presets: e.presets, Auto: e.autoStatus,
		Switches: append([]Switch(nil), e.history...), StateFile: e.statePath, WatchFile: e.cfg.WatchFile,
		FlushTimes: map[string]string{}, Backend: map[string]string{},
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

// watchLoop polls the watched file; polling works on every file system and through the
// rename-into-place that configuration tools use.
func (e *edgeProfile) watchLoop() {
	defer e.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if name, ok := e.readWatchFile(); ok {
				e.mu.Lock()
				same := e.requested == name
				e.mu.Unlock()
				if !same {
					_ = e.setRequested(name, SourceFile, "named in "+e.cfg.WatchFile)
				}
			}
		}
	}
}

// readWatchFile returns the profile named in the watched file when it changed since the last
// read and is valid. Bad content is reported once per distinct content, not on every poll.
func (e *edgeProfile) readWatchFile() (string, bool) {
	if e.cfg.WatchFile == "" {
		return "", false
	}
	raw, err := os.ReadFile(e.cfg.WatchFile)
	if err != nil {
		return "", false
	}
	content := string(raw)
	e.mu.Lock()
	defer e.mu.Unlock()
	if content == e.fileContent {
		return "", false
	}
	name, perr := parseProfileRequest(raw)
	if perr == nil {
		if _, ok := e.presets[name]; !ok && name != ProfileAuto {
			perr = fmt.Errorf("unknown profile %q; use auto or one of %s", name, strings.Join(sortedKeys(e.presets), ", "))
		}
	}
	if perr != nil {
		if e.fileWarned != content {
			e.fileWarned = content
			e.logger.Warn("edge_profile ignores the watched file", zap.String("file", e.cfg.WatchFile), zap.Error(perr))
		}
		return "", false
	}
	e.fileContent = content
	return name, true
}

// parseProfileRequest accepts a bare profile name or {"profile": "<name>"}.
func parseProfileRequest(raw []byte) (string, error) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, "{") {
		var req struct {
			Profile string `json:"profile"`
		}
		if err := json.Unmarshal([]byte(s), &req); err != nil {
			return "", fmt.Errorf("not valid JSON: %w; send {\"profile\": \"edge\"} or a bare profile name", err)
		}
		s = req.Profile
	}
	if s == "" {
		return "", errors.New("no profile named; send {\"profile\": \"edge\"} or a bare profile name")
	}
	return s, nil
}

// autoLoop evaluates the environment periodically; it only acts in auto mode.
func (e *edgeProfile) autoLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.Auto.Interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.mu.Lock()
			isAuto := e.requested == ProfileAuto
			e.mu.Unlock()
			if isAuto {
				e.probeUplink()
				e.evaluateAuto(time.Now())
			}
		}
	}
}

func (e *edgeProfile) evaluateAuto(now time.Time) {
	env := e.senseEnv()
	proposal, why := Decide(env)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.requested != ProfileAuto {
		return
	}
	a := e.active.Load()
	ok, wait := e.hyst.observe(now, a.Preset, a.Since, proposal)
	e.autoStatus = autoStatus{Proposal: proposal, Reason: why, Evaluated: now, Decision: wait}
	if ok {
		e.autoStatus.Decision = "switched"
		e.applyLocked(proposal, SourceAuto, why)
	}
}

// sense reads the environment of this process.
func (e *edgeProfile) sense() Environment {
	env := Environment{Arch: runtime.GOARCH, CPUs: float64(runtime.NumCPU())}
	if c, ok := cgroupCPULimit("/"); ok && c < env.CPUs {
		env.CPUs = c
	}
	if m, err := memTotal("/"); err == nil {
		env.MemoryBytes = m
	}
	if m, ok := cgroupMemoryLimit("/"); ok && (env.MemoryBytes == 0 || m < env.MemoryBytes) {
		env.MemoryBytes = m
	}
	env.Kubernetes = os.Getenv("KUBERNETES_SERVICE_HOST") != ""
	if e.cfg.Auto.Metered != nil {
		env.Metered, env.MeteredWhy = *e.cfg.Auto.Metered, "auto.metered in the configuration"
	} else {
		env.Metered, env.MeteredWhy = meteredUplink("/")
	}
	e.uplinkMu.Lock()
	for _, failed := range e.uplink {
		env.UplinkAttempts++
		if failed {
			env.UplinkFailures++
		}
	}
	env.UplinkVia = e.uplinkVia
	e.uplinkMu.Unlock()
	env.UplinkTarget = e.uplinkTarget()
	return env
}

func (e *edgeProfile) uplinkTarget() string {
	if ep := e.cfg.BackendEndpoint(ProtocolGRPC); ep != "" {
		return DialAddress(ep, "4317")
	}
	if ep := e.cfg.BackendEndpoint(ProtocolHTTP); ep != "" {
		return DialAddress(ep, "4318")
	}
	return ""
}

// probeUplink dials the backend once and keeps the last five outcomes: exporters do not
// report failures to extensions, so auto mode measures reachability itself.
func (e *edgeProfile) probeUplink() {
	target := e.uplinkTarget()
	if target == "" {
		return
	}
	via, err := newUplinkProbe(target, e.cfg.uplinkScheme()).run()
	e.uplinkMu.Lock()
	e.uplinkVia = via
	e.uplink = append(e.uplink, err != nil)
	if len(e.uplink) > 5 {
		e.uplink = e.uplink[len(e.uplink)-5:]
	}
	e.uplinkMu.Unlock()
}
