package threat

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// NewMetricsConsumer returns a metrics consumer that evaluates the rules on each scrape of the
// wasm_runtime receiver it is given and sends the events, if any, to next. It lets a scraper
// controller drive the rules: the controller's scrape lands here instead of in a metrics
// pipeline. now defaults to time.Now.
func NewMetricsConsumer(engine *Engine, next consumer.Logs, now func() time.Time) (consumer.Metrics, error) {
	if now == nil {
		now = time.Now
	}
	sampler := NewSampler()
	return consumer.NewMetrics(func(ctx context.Context, md pmetric.Metrics) error {
		t := now()
		logs, _ := engine.Evaluate(ctx, t, sampler.Samples(md, t))
		if logs.LogRecordCount() == 0 {
			return nil
		}
		return next.ConsumeLogs(ctx, logs)
	})
}
