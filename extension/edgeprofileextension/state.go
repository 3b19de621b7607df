package edgeprofileextension

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// persistedState is what survives a restart: the requested profile (a preset name or auto),
// the active preset, and the profile the configuration asked for when it was written, so that
// an edited configuration wins over a stale runtime choice.
type persistedState struct {
	Version    int       `json:"version"`
	Configured string    `json:"configured"`
	Requested  string    `json:"requested"`
	Active     string    `json:"active"`
	Source     string    `json:"source"`
	Reason     string    `json:"reason"`
	Updated    time.Time `json:"updated"`
}

const stateVersion = 1

// StateDirectory is where the state file and the persistent queues live.
func (cfg *Config) StateDirectory() string {
	if cfg.StorageDirectory != "" {
		return cfg.StorageDirectory
	}
	if os.Geteuid() == 0 {
		return "/var/lib/otelcol-virt"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "otelcol-virt")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "otelcol-virt")
	}
	return filepath.Join(os.TempDir(), "otelcol-virt")
}

// readState returns the persisted state, (nil, nil) when there is none, or an error saying
// why the file cannot be trusted.
func readState(path string, presets map[string]Preset) (*persistedState, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st persistedState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("unknown version %d (want %d)", st.Version, stateVersion)
	}
	if _, ok := presets[st.Active]; !ok {
		return nil, fmt.Errorf("active profile %q is not a configured preset", st.Active)
	}
	if _, ok := presets[st.Requested]; !ok && st.Requested != ProfileAuto {
		return nil, fmt.Errorf("requested profile %q is not a configured preset", st.Requested)
	}
	return &st, nil
}

// writeState replaces the state file atomically, so a crash leaves the old or the new one.
func writeState(path string, st persistedState) error {
	st.Version = stateVersion
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
