package edgeprofileextension

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func newTestExtension(t *testing.T, mutate func(*Config)) (*edgeProfile, *observer.ObservedLogs) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Profile = ProfileEdge
	cfg.StorageDirectory = t.TempDir()
	cfg.Control.NetAddr.Endpoint = ""
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zap.InfoLevel)
	set := extensiontest.NewNopSettings(Type)
	set.Logger = zap.New(core)
	set.ID = component.NewID(Type)
	e, err := newEdgeProfile(cfg, set)
	require.NoError(t, err)
	return e, logs
}

func start(t *testing.T, e *edgeProfile) {
	t.Helper()
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.Shutdown(context.Background())) })
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e, _ := newTestExtension(t, func(c *Config) { c.StorageDirectory = dir })
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, e.setRequested(ProfileCloud, SourceControl, "test"))
	require.NoError(t, e.Shutdown(context.Background()))

	e2, _ := newTestExtension(t, func(c *Config) { c.StorageDirectory = dir })
	start(t, e2)
	assert.Equal(t, ProfileCloud, e2.Active())
	assert.Equal(t, SourceState, e2.active.Load().Source)

	// An edited configuration wins over the persisted runtime choice.
	e3, _ := newTestExtension(t, func(c *Config) { c.StorageDirectory = dir; c.Profile = ProfileHybrid })
	start(t, e3)
	assert.Equal(t, ProfileHybrid, e3.Active())
}

func TestCorruptStateFallsBack(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":        "\x00\x01{{",
		"unknown preset": `{"version":1,"configured":"edge","requested":"satellite","active":"satellite"}`,
		"future version": `{"version":9,"configured":"edge","requested":"cloud","active":"cloud"}`,
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "edge_profile.state.json")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			e, logs := newTestExtension(t, func(c *Config) { c.StorageDirectory = dir })
			start(t, e)
			assert.Equal(t, ProfileEdge, e.Active())
			assert.Len(t, logs.FilterMessageSnippet("state file is unusable").All(), 1)
			bad, err := os.ReadFile(path + ".corrupt")
			require.NoError(t, err)
			assert.Equal(t, content, string(bad), "kept for inspection")
			_, err = readState(path, e.presets)
			assert.NoError(t, err, "a fresh state file was written")
		})
	}
}

func TestUnwritableStateDirectoryOnlyWarns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	e, logs := newTestExtension(t, func(c *Config) { c.StorageDirectory = file })
	start(t, e)
	assert.Equal(t, ProfileEdge, e.Active())
	assert.NotEmpty(t, logs.FilterMessageSnippet("cannot persist").All())
}

func TestWatchFile(t *testing.T) {
	watch := filepath.Join(t.TempDir(), "profile")
	require.NoError(t, os.WriteFile(watch, []byte("hybrid\n"), 0o600))
	e, logs := newTestExtension(t, func(c *Config) { c.WatchFile = watch })
	start(t, e)
	assert.Equal(t, ProfileHybrid, e.Active(), "read at start")
	require.NoError(t, os.WriteFile(watch, []byte(`{"profile": "cloud"}`), 0o600))
	require.Eventually(t, func() bool { return e.Active() == ProfileCloud }, 5*time.Second, 50*time.Millisecond)
	require.NoError(t, os.WriteFile(watch, []byte("satellite"), 0o600))
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, ProfileCloud, e.Active())
	assert.Len(t, logs.FilterMessage("edge_profile ignores the watched file").All(), 1, "one warning per bad content")
}

func TestAutoModeWithHysteresis(t *testing.T) {
	e, logs := newTestExtension(t, func(c *Config) {
		c.Profile = ProfileAuto
		c.Auto.Interval = time.Hour // evaluations are driven by the test
		c.Auto.Confirmations = 3
		c.Auto.MinDwell = 0
	})
	env := Environment{CPUs: 8, MemoryBytes: 16 * gib, Arch: "amd64", Kubernetes: true}
	e.senseEnv = func() Environment { return env }
	start(t, e)
	assert.Equal(t, ProfileCloud, e.Active(), "initial choice needs no confirmation")
	assert.Contains(t, e.active.Load().Reason, "Kubernetes")

	env.UplinkAttempts, env.UplinkFailures, env.UplinkTarget = 5, 4, "otlp.example.com:4317"
	now := time.Now()
	e.evaluateAuto(now)
	e.evaluateAuto(now.Add(time.Second))
	assert.Equal(t, ProfileCloud, e.Active(), "two proposals are not enough")
	env.UplinkFailures = 0 // the uplink recovers: the streak is broken
	e.evaluateAuto(now.Add(2 * time.Second))
	env.UplinkFailures = 4
	e.evaluateAuto(now.Add(3 * time.Second))
	e.evaluateAuto(now.Add(4 * time.Second))
	assert.Equal(t, ProfileCloud, e.Active(), "a flapping uplink does not switch")
	e.evaluateAuto(now.Add(5 * time.Second))
	assert.Equal(t, ProfileEdge, e.Active())
	assert.Contains(t, e.active.Load().Reason, "uplink failing: 4 of the last 5")
	assert.Equal(t, SourceAuto, e.active.Load().Source)
	assert.NotEmpty(t, logs.FilterField(zap.String("source", SourceAuto)).All())

	// A manual choice pins the profile: auto evaluations stop acting.
	require.NoError(t, e.setRequested(ProfileHybrid, SourceControl, "test"))
	env.UplinkFailures = 0
	for i := range 5 {
		e.evaluateAuto(now.Add(time.Duration(10+i) * time.Second))
	}
	assert.Equal(t, ProfileHybrid, e.Active())
}

func TestHysteresisMinDwell(t *testing.T) {
	h := hysteresis{confirmations: 1, minDwell: time.Minute}
	since := time.Now()
	ok, why := h.observe(since.Add(10*time.Second), "cloud", since, "edge")
	assert.False(t, ok)
	assert.Contains(t, why, "minimum 1m0s")
	ok, _ = h.observe(since.Add(61*time.Second), "cloud", since, "edge")
	assert.True(t, ok)
}

func TestDecide(t *testing.T) {
	for _, tt := range []struct {
		name   string
		env    Environment
		want   string
		reason string
	}{
		{"one core", Environment{CPUs: 1, MemoryBytes: 8 * gib, Arch: "amd64"}, ProfileEdge, "constrained resources: 1 CPUs"},
		{"half a core quota", Environment{CPUs: 0.5, MemoryBytes: 8 * gib, Arch: "arm64"}, ProfileEdge, "constrained"},
		{"one core pod", Environment{CPUs: 1, MemoryBytes: 512 * mib, Arch: "amd64", Kubernetes: true}, ProfileCloud, "running in Kubernetes"},
		{"failing uplink in Kubernetes", Environment{CPUs: 1, Kubernetes: true, UplinkAttempts: 5, UplinkFailures: 5, UplinkTarget: "x:4317", UplinkVia: "http://proxy:3128"}, ProfileEdge, "to x:4317 through proxy http://proxy:3128 failed"},
		{"uplink up is a reason too", Environment{CPUs: 8, MemoryBytes: 32 * gib, UplinkAttempts: 5, UplinkFailures: 1, UplinkTarget: "x:4317"}, ProfileCloud, "uplink to x:4317 up (1 of 5 probes failed)"},
		{"small memory", Environment{CPUs: 4, MemoryBytes: 256 * mib, Arch: "amd64"}, ProfileEdge, "256 MiB"},
		{"32-bit arm", Environment{CPUs: 4, MemoryBytes: 2 * gib, Arch: "arm"}, ProfileEdge, "architecture arm"},
		{"metered", Environment{CPUs: 16, MemoryBytes: 64 * gib, Arch: "amd64", Metered: true, MeteredWhy: "default route via PPP link ppp0"}, ProfileEdge, "metered (default route via PPP link ppp0)"},
		{"failing uplink", Environment{CPUs: 16, MemoryBytes: 64 * gib, UplinkAttempts: 4, UplinkFailures: 3, UplinkTarget: "x:4317"}, ProfileEdge, "3 of the last 4"},
		{"too few probes", Environment{CPUs: 16, MemoryBytes: 64 * gib, UplinkAttempts: 2, UplinkFailures: 2}, ProfileCloud, "ample"},
		{"kubernetes", Environment{CPUs: 2, MemoryBytes: 2 * gib, Arch: "amd64", Kubernetes: true}, ProfileCloud, "Kubernetes"},
		{"big node", Environment{CPUs: 8, MemoryBytes: 32 * gib, Arch: "arm64"}, ProfileCloud, "ample resources: 8 CPUs, 32.0 GiB"},
		{"middle", Environment{CPUs: 2, MemoryBytes: 2 * gib, Arch: "amd64"}, ProfileHybrid, "moderate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Decide(tt.env)
			assert.Equal(t, tt.want, got)
			assert.Contains(t, why, tt.reason)
		})
	}
}
