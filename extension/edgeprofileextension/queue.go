package edgeprofileextension

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
)

// Persistent queue files are named by file_storage after the exporter that owns them:
// "exporter_<type>_<name>_<signal>" (contrib v0.165.1, extension/storage/filestorage,
// extension.go GetClient), and the exporter's type is its protocol. The name part and the
// directory are stable per preset, the type is not: switching a preset from otlp_http to
// otlp_grpc would leave what otlp_http queued on disk, unread. Both OTLP exporters queue the
// same requests (exporterhelper's pdata encoding of the signal), so a file can be handed to
// the preset's current exporter by renaming it.

// queueFileTypes are the exporter types whose queue files a preset may have left.
var queueFileTypes = []string{ProtocolHTTP, ProtocolGRPC}

// migrateQueues runs before the exporters start (extensions start first). For every persistent
// preset it moves queue files left by another protocol, or by the layout that kept all presets
// in one directory, to the file its current exporter opens. A file whose target already
// exists is left in place with a warning naming both: merging two queues is not safe.
func migrateQueues(cfg *Config, names Names, presets map[string]Preset, logger *zap.Logger) {
	if !cfg.HasBackend() {
		return
	}
	stateDir := cfg.StateDirectory()
	for _, name := range sortedKeys(presets) {
		p := presets[name]
		if !p.Persistent {
			continue
		}
		moved, err := migratePresetQueue(stateDir, names, name, cfg.ExporterType(p))
		for _, m := range moved {
			logger.Info("edge_profile moved a persistent queue to the preset's current exporter",
				zap.String("preset", name), zap.String("from", m[0]), zap.String("to", m[1]))
		}
		if err != nil {
			logger.Warn("edge_profile left a persistent queue of an earlier configuration in place; its items are sent once it is moved to the named file while the collector is stopped, or when the preset's protocol is set back",
				zap.String("preset", name), zap.Error(err))
		}
	}
}

// migratePresetQueue moves one preset's queue files; it returns the moves done (from, to).
func migratePresetQueue(stateDir string, names Names, preset, currentType string) ([][2]string, error) {
	dir := names.QueueDirectory(stateDir, preset)
	legacyDir := filepath.Join(stateDir, "queue")
	owner := names.Exporter(currentType, preset).Name()
	var moved [][2]string
	var errs []error
	for _, signal := range routedSignals {
		target := filepath.Join(dir, queueFileName(currentType, owner, signal.String()))
		for _, d := range []string{dir, legacyDir} {
			for _, typ := range queueFileTypes {
				src := filepath.Join(d, queueFileName(typ, owner, signal.String()))
				if src == target {
					continue
				}
				if _, err := os.Stat(src); err != nil {
					continue
				}
				if _, err := os.Stat(target); err == nil {
					errs = append(errs, fmt.Errorf("%s: %s already exists", src, target))
					continue
				}
				if err := os.MkdirAll(dir, 0o700); err != nil {
					errs = append(errs, err)
					continue
				}
				if err := os.Rename(src, target); err != nil {
					errs = append(errs, err)
					continue
				}
				moved = append(moved, [2]string{src, target})
			}
		}
	}
	return moved, errors.Join(errs...)
}

// queueFileName is file_storage's file name for an exporter's queue of one signal; the
// generated names only use characters file_storage keeps as they are.
func queueFileName(exporterType, exporterName, signal string) string {
	return strings.Join([]string{"exporter", exporterType, exporterName, signal}, "_")
}
