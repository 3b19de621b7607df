package edgeprofileextension

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client/types"
	"go.uber.org/zap"
)

// opampInstanceUID returns the configured instance_uid, or one generated once and kept next to
// the state file: OpAMP servers track an agent by it across restarts.
func (e *edgeProfile) opampInstanceUID() (types.InstanceUid, error) {
	if s := e.cfg.OpAMP.InstanceUID; s != "" {
		u, err := uuid.Parse(s)
		return types.InstanceUid(u), err
	}
	path := strings.TrimSuffix(e.statePath, ".state.json") + ".opamp-instance-uid"
	if raw, err := os.ReadFile(path); err == nil {
		if u, err := uuid.Parse(strings.TrimSpace(string(raw))); err == nil {
			return types.InstanceUid(u), nil
		}
		e.logger.Warn("edge_profile OpAMP instance uid file is not a UUID; generating a new one", zap.String("file", path))
	}
	u, err := uuid.NewV7()
	if err != nil {
		return types.InstanceUid{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		err = os.WriteFile(path, []byte(u.String()+"\n"), 0o600)
		if err != nil {
			e.logger.Warn("edge_profile cannot keep the OpAMP instance uid; the server will see a new agent after a restart", zap.String("file", path), zap.Error(err))
		}
	}
	return types.InstanceUid(u), nil
}

// opampLogger routes the client's logs into the collector's logger at debug level: the errors
// it logs repeat on every retry, and connection failures are logged once per distinct error
// through OnConnectFailed instead.
type opampLogger struct{ l *zap.SugaredLogger }

func (o opampLogger) Debugf(_ context.Context, format string, v ...any) { o.l.Debugf(format, v...) }
func (o opampLogger) Errorf(_ context.Context, format string, v ...any) { o.l.Debugf(format, v...) }
