package threat

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// instanceMetrics builds the metrics the wasm_runtime receiver writes for one instance, with the
// types of its metadata.yaml.
type instanceMetrics struct {
	id                     string
	cpuLimitUtil, cpuUsage *float64
	memUtil                *float64
	oomKills, fds          *int64
	conns                  map[string]int64
	limits                 map[string]int64
}

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

func (im instanceMetrics) add(md pmetric.Metrics) {
	rm := md.ResourceMetrics().AppendEmpty()
	if im.id != "" {
		rm.Resource().Attributes().PutStr("wasm_runtime.instance.id", im.id)
		rm.Resource().Attributes().PutStr("wasm_runtime.runtime", "wazero")
	}
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	gauge := func(name string, v float64) {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(v)
	}
	sum := func(name string, v int64, attrs ...string) {
		m := ms.AppendEmpty()
		m.SetName(name)
		dp := m.SetEmptySum().DataPoints().AppendEmpty()
		dp.SetIntValue(v)
		for i := 0; i+1 < len(attrs); i += 2 {
			dp.Attributes().PutStr(attrs[i], attrs[i+1])
		}
	}
	if im.cpuLimitUtil != nil {
		gauge(metricCPULimitUtilization, *im.cpuLimitUtil)
	}
	if im.cpuUsage != nil {
		gauge(metricCPUUsage, *im.cpuUsage)
	}
	if im.memUtil != nil {
		gauge(metricMemoryUtilization, *im.memUtil)
	}
	if im.oomKills != nil {
		sum(metricOOMKills, *im.oomKills)
	}
	if im.fds != nil {
		sum(metricFDCount, *im.fds)
	}
	if im.conns != nil {
		m := ms.AppendEmpty()
		m.SetName(metricConnections)
		s := m.SetEmptySum()
		for st, n := range im.conns {
			dp := s.DataPoints().AppendEmpty()
			dp.SetIntValue(n)
			dp.Attributes().PutStr("network.transport", "tcp")
			dp.Attributes().PutStr(attrConnState, st)
		}
	}
	if im.limits != nil {
		m := ms.AppendEmpty()
		m.SetName(metricLimitConfigured)
		g := m.SetEmptyGauge()
		for res, on := range im.limits {
			dp := g.DataPoints().AppendEmpty()
			dp.SetIntValue(on)
			dp.Attributes().PutStr(attrLimitResource, res)
		}
	}
}

func TestSamplerMapsReceiverMetrics(t *testing.T) {
	sp := NewSampler()
	md := pmetric.NewMetrics()
	instanceMetrics{id: "/wasm/limited", cpuLimitUtil: f64(0.97), cpuUsage: f64(0.485), memUtil: f64(0.93), oomKills: i64(2), fds: i64(40),
		conns: map[string]int64{"established": 700, "listen": 1, "time_wait": 5}, limits: map[string]int64{"cpu": 1, "memory": 1, "pids": 1}}.add(md)
	instanceMetrics{id: "pid:77:1234", cpuUsage: f64(1.0), fds: i64(10), limits: map[string]int64{"cpu": 0, "memory": 0, "pids": 0, "file_descriptors": 1}}.add(md)
	instanceMetrics{}.add(md) // the receiver's self-metrics resource
	t0 := time.Unix(1000, 0)
	samples := sp.Samples(md, t0)
	require.Len(t, samples, 2)

	lim := samples[0]
	assert.Equal(t, "/wasm/limited", lim.Key)
	assert.Equal(t, "wazero", lim.Resource["wasm_runtime.runtime"])
	assert.Equal(t, 0.97, lim.CPUUtilization, "ratio of the quota, not of a core")
	assert.Equal(t, 0.93, lim.MemoryUtilization)
	assert.Equal(t, int64(2), lim.OOMKills)
	assert.Equal(t, int64(40), lim.FileDescriptors)
	assert.Equal(t, int64(705), lim.TCPConnections, "listening sockets are not connections")
	assert.Equal(t, &Limits{CPU: true, Memory: true, PIDs: true}, lim.Limits)
	assert.True(t, lim.FileCreationRate != lim.FileCreationRate, "no rate on the first scrape")

	free := samples[1]
	assert.Equal(t, 1.0, free.CPUUtilization, "one full core when unlimited")
	assert.True(t, free.MemoryUtilization != free.MemoryUtilization, "unknown without a memory limit")
	assert.Equal(t, int64(-1), free.OOMKills)
	assert.Equal(t, int64(-1), free.TCPConnections, "connection metric disabled")
	assert.Equal(t, &Limits{}, free.Limits)

	// Ten seconds later the free instance holds 510 descriptors: 50 new files per second.
	md = pmetric.NewMetrics()
	instanceMetrics{id: "pid:77:1234", cpuUsage: f64(0.2), fds: i64(510)}.add(md)
	samples = sp.Samples(md, t0.Add(10*time.Second))
	require.Len(t, samples, 1)
	assert.Equal(t, 50.0, samples[0].FileCreationRate)
	assert.Nil(t, samples[0].Limits, "limits unknown when not reported")

	// Closing files is no negative creation; a vanished instance loses its history.
	md = pmetric.NewMetrics()
	instanceMetrics{id: "pid:77:1234", fds: i64(10)}.add(md)
	assert.Equal(t, 0.0, sp.Samples(md, t0.Add(20*time.Second))[0].FileCreationRate)
	sp.Samples(pmetric.NewMetrics(), t0.Add(30*time.Second))
	assert.Empty(t, sp.prev)
}

func TestMetricsConsumerSendsEventsOnly(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.CPU.ConsecutiveScrapes, cfg.CPU.ClearScrapes = 2, 1
	e, err := NewEngine(cfg, nil)
	require.NoError(t, err)
	sink := new(consumertest.LogsSink)
	clock := time.Unix(0, 0)
	c, err := NewMetricsConsumer(e, sink, func() time.Time { clock = clock.Add(10 * time.Second); return clock })
	require.NoError(t, err)
	scrape := func(util float64) {
		md := pmetric.NewMetrics()
		instanceMetrics{id: "/wasm/a", cpuLimitUtil: f64(util), limits: map[string]int64{"cpu": 1, "memory": 1, "pids": 1}}.add(md)
		require.NoError(t, c.ConsumeMetrics(context.Background(), md))
	}
	scrape(0.95)
	assert.Equal(t, 0, sink.LogRecordCount(), "one breaching scrape of two")
	scrape(0.95)
	scrape(0.99)
	require.Equal(t, 1, sink.LogRecordCount())
	scrape(0.1)
	require.Len(t, sink.AllLogs(), 2, "no empty batches are sent")
	lr := sink.AllLogs()[1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, "wasm_runtime.threat.cpu_exhaustion", lr.EventName())
	d, _ := lr.Attributes().Get(AttrDuration)
	assert.Equal(t, 20.0, d.Double())
}

func TestRequiredMetrics(t *testing.T) {
	cfg := NewDefaultConfig()
	assert.ElementsMatch(t, []string{metricCPULimitUtilization, metricCPUUsage, metricLimitConfigured, metricMemoryUtilization,
		metricOOMKills, metricFDCount, metricConnections, metricLimitConfigured,
		metricLMCount, metricLMTruncated, metricLMCommitted, metricLMResident, metricLMCapacity}, cfg.RequiredMetrics())
	cfg.Connections.Enabled, cfg.CPU.Enabled, cfg.Limits.Enabled, cfg.LinearMemory.Enabled = false, false, false, false
	assert.ElementsMatch(t, []string{metricMemoryUtilization, metricOOMKills, metricFDCount}, cfg.RequiredMetrics(),
		"no readlink per descriptor without the connection rule")
	cfg.Enabled = false
	assert.Empty(t, cfg.RequiredMetrics())
}
