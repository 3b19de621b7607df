package edgeprofileextension

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
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
	SourceOpAMP   = "opamp"
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
	uplink      []bool       // recent probe results, true = failed; guarded by uplinkMu
	decisions   []autoStatus // last distinct auto evaluations
	uplinkVia   string       // the proxy of the last probe, empty when direct; guarded by uplinkMu
	fileContent string
	fileWarned  string

	healthMu      sync.Mutex
	health        map[string]map[string]exporterHealth // preset -> exporter ID -> last status
	healthChanged chan struct{}

	switches  metric.Int64Counter
	metricReg metric.Registration

	opamp       *opampAgent
	started     time.Time
	server      *http.Server
	controlAddr net.Addr // where the control API listens
	stop        chan struct{}
	wg          sync.WaitGroup

	// senseEnv is replaceable in tests.
	senseEnv func() Environment
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

		healthChanged: make(chan struct{}, 1),
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

func (e *edgeProfile) Start(ctx context.Context, host component.Host) error {
	if err := e.registerMetrics(); err != nil {
		return err
	}
	migrateQueues(e.cfg, Names{Extension: e.settings.ID}, e.presets, e.logger)
	e.started = time.Now()
	e.initialProfile()
	if e.cfg.OpAMP.Endpoint != "" {
		if err := e.startOpAMP(ctx); err != nil {
			return err
		}
	}
	if e.cfg.Control.NetAddr.Endpoint != "" {
		if err := e.startControl(ctx, host); err != nil {
			return err
		}
	}
	if e.cfg.WatchFile != "" {
		e.wg.Add(1)
		go e.watchLoop()
	}
	e.wg.Add(1)
	go e.autoLoop()
	return nil
}

func (e *edgeProfile) Shutdown(ctx context.Context) error {
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	var errs []error
	if e.opamp != nil {
		errs = append(errs, e.opamp.stop(ctx))
	}
	if e.server != nil {
		errs = append(errs, e.server.Shutdown(ctx))
	}
	e.wg.Wait()
	if e.metricReg != nil {
		_ = e.metricReg.Unregister()
	}
	return errors.Join(errs...)
}
