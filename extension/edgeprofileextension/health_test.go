package edgeprofileextension

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pipeline"
)

// exporterOf is the instance ID the service gives a preset's generated exporter: one exporter
// shared by the preset's pipelines of every signal.
func exporterOf(e *edgeProfile, preset string) *componentstatus.InstanceID {
	n := Names{Extension: e.settings.ID}
	return componentstatus.NewInstanceID(n.Exporter(e.cfg.ExporterType(e.presets[preset]), preset), component.KindExporter,
		n.Pipeline(pipeline.SignalTraces, preset), n.Pipeline(pipeline.SignalLogs, preset), n.Pipeline(pipeline.SignalMetrics, preset))
}

func TestExporterErrorSwitchesAtOnce(t *testing.T) {
	e, _ := newTestExtension(t, func(c *Config) {
		c.Profile = ProfileAuto
		c.Endpoint = "http://127.0.0.1:1"
		c.Auto.Interval = time.Hour // only a status event can trigger an evaluation here
		c.Auto.Confirmations = 3
		c.Auto.MinDwell = time.Hour
	})
	env := Environment{CPUs: 8, MemoryBytes: 16 * gib, Arch: "amd64", Kubernetes: true}
	e.senseEnv = func() Environment { return env }
	start(t, e)
	require.Equal(t, ProfileCloud, e.Active())

	// Events that are not about a generated exporter change nothing.
	e.Changed(componentstatus.NewInstanceID(component.MustNewIDWithName("otlp_grpc", "mine"), component.KindExporter, pipeline.NewID(pipeline.SignalTraces)),
		componentstatus.NewPermanentErrorEvent(errors.New("not ours")))
	e.Changed(componentstatus.NewInstanceID(component.MustNewID("otlp"), component.KindReceiver, Names{Extension: e.settings.ID}.Pipeline(pipeline.SignalTraces, ProfileCloud)),
		componentstatus.NewRecoverableErrorEvent(errors.New("a receiver")))
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, ProfileCloud, e.Active())
	assert.Empty(t, e.status().ExporterHealth)

	e.Changed(exporterOf(e, ProfileCloud), componentstatus.NewRecoverableErrorEvent(errors.New("rpc error: code = Unavailable desc = connection refused")))
	require.Eventually(t, func() bool { return e.Active() == ProfileEdge }, 5*time.Second, 10*time.Millisecond,
		"no confirmations, no dwell and no probe are waited for")
	a := e.active.Load()
	assert.Equal(t, SourceAuto, a.Source)
	assert.Contains(t, a.Reason, "cloud: exporter otlp_grpc/edge_profile-cloud reports StatusRecoverableError: rpc error: code = Unavailable desc = connection refused; edge is healthy")
	st := e.status()
	require.NotEmpty(t, st.AutoDecisions)
	last := st.AutoDecisions[len(st.AutoDecisions)-1]
	assert.Equal(t, ProfileEdge, last.Proposal)
	assert.Equal(t, "switched at once: cloud: exporter otlp_grpc/edge_profile-cloud reports StatusRecoverableError: rpc error: code = Unavailable desc = connection refused", last.Decision)
	assert.Contains(t, last.Inputs, "preset cloud: exporter otlp_grpc/edge_profile-cloud reports StatusRecoverableError: rpc error: code = Unavailable desc = connection refused")
	assert.Contains(t, last.Inputs, "running in Kubernetes")
	require.Len(t, st.ExporterHealth[ProfileCloud], 1)
	assert.Equal(t, "StatusRecoverableError", st.ExporterHealth[ProfileCloud][0].Status)

	// Recovery goes through the ordinary hysteresis: the environment still proposes cloud,
	// but edge stays for min_dwell.
	e.Changed(exporterOf(e, ProfileCloud), componentstatus.NewEvent(componentstatus.StatusOK))
	for i := range 4 {
		e.evaluateAuto(time.Now().Add(time.Duration(i) * time.Second))
	}
	assert.Equal(t, ProfileEdge, e.Active())
	assert.Contains(t, e.status().Auto.Decision, "cloud confirmed, waiting: edge active for")
}

func TestExporterErrorDoesNotOverrideAManualChoice(t *testing.T) {
	e, _ := newTestExtension(t, func(c *Config) { c.Profile = ProfileCloud; c.Endpoint = "http://127.0.0.1:1" })
	start(t, e)
	e.Changed(exporterOf(e, ProfileCloud), componentstatus.NewPermanentErrorEvent(errors.New("x509: certificate signed by unknown authority")))
	e.evaluateAuto(time.Now())
	assert.Equal(t, ProfileCloud, e.Active(), "a pinned preset stays; the error is shown in /status")
	st := e.status()
	require.Len(t, st.ExporterHealth[ProfileCloud], 1)
	assert.Equal(t, "x509: certificate signed by unknown authority", st.ExporterHealth[ProfileCloud][0].Error)
}

func TestAvoidFailing(t *testing.T) {
	presets := []string{ProfileCloud, ProfileEdge, ProfileHybrid}
	for _, c := range []struct {
		name     string
		proposal string
		failing  map[string]string
		want     string
		changed  bool
		reason   string
	}{
		{"healthy proposal", ProfileCloud, map[string]string{ProfileHybrid: "x"}, ProfileCloud, false, "env"},
		{"failing proposal goes to edge", ProfileCloud, map[string]string{ProfileCloud: "exporter a reports StatusRecoverableError"}, ProfileEdge, true,
			"cloud: exporter a reports StatusRecoverableError; edge is healthy (cloud proposed: env)"},
		{"edge failing too", ProfileCloud, map[string]string{ProfileCloud: "a", ProfileEdge: "b"}, ProfileHybrid, true, "hybrid is healthy"},
		{"all failing", ProfileHybrid, map[string]string{ProfileCloud: "a", ProfileEdge: "b", ProfileHybrid: "c"}, ProfileEdge, true,
			"every preset's exporter reports an error (hybrid: c); edge keeps what it accepts on disk"},
		{"all failing on edge", ProfileEdge, map[string]string{ProfileCloud: "a", ProfileEdge: "b", ProfileHybrid: "c"}, ProfileEdge, false, "env"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, why, changed := avoidFailing(c.proposal, "env", presets, c.failing)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.changed, changed)
			assert.Contains(t, why, c.reason)
		})
	}
}

func TestRecoverableErrorExpiresWithAWorkingUplink(t *testing.T) {
	e, _ := newTestExtension(t, func(c *Config) { c.Auto.MinDwell = time.Minute; c.Endpoint = "http://127.0.0.1:1" })
	e.Changed(exporterOf(e, ProfileCloud), componentstatus.NewRecoverableErrorEvent(errors.New("timeout")))
	e.Changed(exporterOf(e, ProfileHybrid), componentstatus.NewPermanentErrorEvent(errors.New("bad config")))
	now := time.Now()
	up := Environment{UplinkAttempts: 5}
	down := Environment{UplinkAttempts: 5, UplinkFailures: 1}
	assert.Contains(t, e.healthSnapshot(now, up), ProfileCloud, "too recent to expire")
	assert.Contains(t, e.healthSnapshot(now.Add(2*time.Minute), down), ProfileCloud, "the probe still fails")
	assert.Contains(t, e.healthSnapshot(now.Add(2*time.Minute), Environment{}), ProfileCloud, "no probe evidence")
	later := e.healthSnapshot(now.Add(2*time.Minute), up)
	assert.NotContains(t, later, ProfileCloud)
	assert.Equal(t, "exporter otlp_grpc/edge_profile-hybrid reports StatusPermanentError: bad config", later[ProfileHybrid], "permanent errors do not expire")
}

func TestAutoDecisionsKeepDistinctEvaluations(t *testing.T) {
	e, _ := newTestExtension(t, func(c *Config) {
		c.Profile = ProfileAuto
		c.Auto.Interval = time.Hour
		c.Auto.Confirmations = 1000 // never switches: only the record of decisions is tested
	})
	env := Environment{CPUs: 8, MemoryBytes: 16 * gib, Arch: "amd64", Kubernetes: true}
	e.senseEnv = func() Environment { return env }
	start(t, e)
	now := time.Now()
	for i := range 5 {
		e.evaluateAuto(now.Add(time.Duration(i) * time.Second))
	}
	st := e.status()
	require.Len(t, st.AutoDecisions, 1, "repeated identical evaluations are one entry")
	assert.Equal(t, "proposal matches the active profile", st.AutoDecisions[0].Decision)
	assert.Equal(t, now.Add(4*time.Second), st.AutoDecisions[0].Evaluated, "with the time of the latest")
	assert.Equal(t, []string{"resources: 8 CPUs, 16.0 GiB memory, amd64", "running in Kubernetes"}, st.AutoDecisions[0].Inputs)

	env = Environment{CPUs: 1, MemoryBytes: 16 * gib, Arch: "amd64"} // proposes edge
	for i := range 40 {
		e.evaluateAuto(now.Add(time.Duration(10+i) * time.Second))
	}
	st = e.status()
	require.Len(t, st.AutoDecisions, decisionsKept)
	last := st.AutoDecisions[decisionsKept-1]
	assert.Equal(t, ProfileEdge, last.Proposal)
	assert.Equal(t, "constrained resources: 1 CPUs, 16.0 GiB memory", last.Reason)
	assert.Equal(t, "edge proposed 40 of 1000 times in a row", last.Decision)
	assert.Equal(t, ProfileCloud, e.Active())
}
