package instanceinventoryextension

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/extension/instanceinventoryextension/internal/metadata"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
)

// inventoryExtension owns the collector's inventory and keeps it fresh when no receiver does.
type inventoryExtension struct {
	cfg    *Config
	logger *zap.Logger
	inv    *inventory.Inventory
	tb     *metadata.TelemetryBuilder

	cancel context.CancelFunc
	done   sync.WaitGroup
	walks  int64
}

var _ inventory.Provider = (*inventoryExtension)(nil)

func newExtension(cfg *Config, set extension.Settings) (*inventoryExtension, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &inventoryExtension{
		cfg:    cfg,
		logger: set.Logger,
		tb:     tb,
		inv:    inventory.New(inventory.Config{RootPath: cfg.RootPath, Runtimes: cfg.Runtimes, MaxOpenFiles: cfg.MaxOpenFiles, Containers: cfg.Containers}, set.Logger),
	}, nil
}

// Inventory implements inventory.Provider.
func (e *inventoryExtension) Inventory() *inventory.Inventory { return e.inv }

func (e *inventoryExtension) Start(ctx context.Context, _ component.Host) error {
	if err := e.inv.Start(ctx); err != nil {
		return err
	}
	// The first walk now, so that a processor's first span already finds its instance.
	e.refresh(ctx, time.Now())
	runCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done.Add(1)
	go e.loop(runCtx)
	return nil
}

func (e *inventoryExtension) loop(ctx context.Context) {
	defer e.done.Done()
	t := time.NewTicker(e.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.refresh(ctx, now)
		}
	}
}

// refresh walks only when no consumer did within the interval: receivers walk on their own
// scrapes, and a second walk in the same interval would double the cost for nothing.
func (e *inventoryExtension) refresh(ctx context.Context, now time.Time) {
	snap, err := e.inv.Acquire(now, e.cfg.RefreshInterval)
	if err != nil {
		e.logger.Warn("instance inventory walk failed", zap.Error(err))
		return
	}
	if w := e.inv.Walks(); w > e.walks {
		e.tb.InstanceInventoryWalks.Add(ctx, w-e.walks)
		e.walks = w
	}
	e.tb.InstanceInventoryInstances.Record(ctx, int64(len(snap.Instances)))
}

func (e *inventoryExtension) Shutdown(context.Context) error {
	if e.cancel != nil {
		e.cancel()
		e.done.Wait()
	}
	e.inv.Close()
	return nil
}
