package edgeprofileextension

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
)

// watchLoop polls the watched file; polling works on every file system and through the
// rename-into-place that configuration tools use.
func (e *edgeProfile) watchLoop() {
	defer e.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if name, ok := e.readWatchFile(); ok {
				e.mu.Lock()
				same := e.requested == name
				e.mu.Unlock()
				if !same {
					_ = e.setRequested(name, SourceFile, "named in "+e.cfg.WatchFile)
				}
			}
		}
	}
}

// readWatchFile returns the profile named in the watched file when it changed since the last
// read and is valid. Bad content is reported once per distinct content, not on every poll.
func (e *edgeProfile) readWatchFile() (string, bool) {
	if e.cfg.WatchFile == "" {
		return "", false
	}
	raw, err := os.ReadFile(e.cfg.WatchFile)
	if err != nil {
		return "", false
	}
	content := string(raw)
	e.mu.Lock()
	defer e.mu.Unlock()
	if content == e.fileContent {
		return "", false
	}
	name, perr := parseProfileRequest(raw)
	if perr == nil {
		if _, ok := e.presets[name]; !ok && name != ProfileAuto {
			perr = fmt.Errorf("unknown profile %q; use auto or one of %s", name, strings.Join(sortedKeys(e.presets), ", "))
		}
	}
	if perr != nil {
		if e.fileWarned != content {
			e.fileWarned = content
			e.logger.Warn("edge_profile ignores the watched file", zap.String("file", e.cfg.WatchFile), zap.Error(perr))
		}
		return "", false
	}
	e.fileContent = content
	return name, true
}

// parseProfileRequest accepts a bare profile name or {"profile": "<name>"}.
func parseProfileRequest(raw []byte) (string, error) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, "{") {
		var req struct {
			Profile string `json:"profile"`
		}
		if err := json.Unmarshal([]byte(s), &req); err != nil {
			return "", fmt.Errorf("not valid JSON: %w; send {\"profile\": \"edge\"} or a bare profile name", err)
		}
		s = req.Profile
	}
	if s == "" {
		return "", errors.New("no profile named; send {\"profile\": \"edge\"} or a bare profile name")
	}
	return s, nil
}
