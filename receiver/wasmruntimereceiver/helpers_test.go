package wasmruntimereceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func testConfig() *Config {
	return createDefaultConfig().(*Config)
}

func newTestScraper(t testing.TB, cfg *Config) *scraperImpl {
	t.Helper()
	return newTestScraperWith(t, cfg, nil)
}

// newTestScraperWith is newTestScraper with the receiver's settings (logger, telemetry).
func newTestScraperWith(t testing.TB, cfg *Config, set *receiver.Settings) *scraperImpl {
	t.Helper()
	require.NoError(t, cfg.Validate())
	if set == nil {
		s := receivertest.NewNopSettings(Type)
		set = &s
	}
	s, err := newScraper(cfg, *set, false)
	require.NoError(t, err)
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = s.shutdown(context.Background()) }) // closes the cached files
	return s
}

// scrapeOnce scrapes after a fresh walk of the host (tests scrape faster than an interval) and
// fails on any read error but vanished processes.
func scrapeOnce(t testing.TB, s *scraperImpl) pmetric.Metrics {
	t.Helper()
	md, err := scrapeFresh(s)
	require.NoError(t, err)
	return md
}

// scrapeFresh scrapes after a fresh walk, returning partial scrape errors.
func scrapeFresh(s *scraperImpl) (pmetric.Metrics, error) {
	s.maxAge = 0 // every scrape walks again
	return s.scrape(context.Background())
}

// findResource returns the first resource whose attribute key equals value.
func findResource(md pmetric.Metrics, key, value string) (pmetric.ResourceMetrics, bool) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		if v, ok := rm.Resource().Attributes().Get(key); ok && v.AsString() == value {
			return rm, true
		}
	}
	return pmetric.ResourceMetrics{}, false
}

// point is one data point flattened for assertions.
type point struct {
	value float64
	attrs map[string]string
}

// points returns the data points of a metric on a resource.
func points(rm pmetric.ResourceMetrics, name string) []point {
	var out []point
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if m.Name() != name {
				continue
			}
			var dps pmetric.NumberDataPointSlice
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				dps = m.Gauge().DataPoints()
			case pmetric.MetricTypeSum:
				dps = m.Sum().DataPoints()
			}
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				p := point{attrs: map[string]string{}}
				if dp.ValueType() == pmetric.NumberDataPointValueTypeDouble {
					p.value = dp.DoubleValue()
				} else {
					p.value = float64(dp.IntValue())
				}
				dp.Attributes().Range(func(k string, v pcommon.Value) bool {
					p.attrs[k] = v.AsString()
					return true
				})
				out = append(out, p)
			}
		}
	}
	return out
}

// value returns the value of a metric's point whose attributes include want (key, value pairs).
func value(rm pmetric.ResourceMetrics, name string, want ...string) (float64, bool) {
	for _, p := range points(rm, name) {
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			if p.attrs[want[i]] != want[i+1] {
				ok = false
			}
		}
		if ok {
			return p.value, true
		}
	}
	return 0, false
}

func resAttr(rm pmetric.ResourceMetrics, key string) string {
	v, ok := rm.Resource().Attributes().Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

func mustResource(t *testing.T, md pmetric.Metrics, pid string) pmetric.ResourceMetrics {
	t.Helper()
	rm, ok := findResource(md, "process.pid", pid)
	require.True(t, ok, "no instance with main pid %s", pid)
	return rm
}

func mustValue(t *testing.T, rm pmetric.ResourceMetrics, name string, attrs ...string) float64 {
	t.Helper()
	v, ok := value(rm, name, attrs...)
	require.True(t, ok, "%s %v missing in %s", name, attrs, dump(rm))
	return v
}

// telemetrySum returns a counter of the receiver's telemetry by wasm_runtime.error.reason (or
// under "" without attributes).
func telemetrySum(t *testing.T, tel *componenttest.Telemetry, name string) map[string]int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err, name)
	out := map[string]int64{}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a sum of int64: %T", name, m.Data)
	for _, dp := range sum.DataPoints {
		r, _ := dp.Attributes.Value("wasm_runtime.error.reason")
		out[r.AsString()] += dp.Value
	}
	return out
}
