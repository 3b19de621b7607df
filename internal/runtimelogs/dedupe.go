package runtimelogs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"sync"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
)

// The stanza file reader does not checkpoint a batch whose emit was under way when it was
// stopped (it cannot know whether the batch was consumed), so after a restart the batch is read
// again. It was consumed here: the pipeline is synchronous up to the emitter. replayGuard keeps,
// per file, the offset of the last record that went through, saves it when the pipeline stops and
// drops the records at or before it that the file reader replays after the next start.

const (
	replayKey = "emitted"
	// headLen bytes from the start of a file tell a rotated file from the one that was read.
	headLen = 256
)

type fileMark struct {
	Offset int64  `json:"offset"`
	Head   []byte `json:"head"` // sha256 of the first HeadLen bytes
	// HeadLen is how many bytes Head covers (files shorter than headLen).
	HeadLen int `json:"head_len"`
}

type replayGuard struct {
	mu sync.Mutex
	// last offset emitted this run, per path
	emitted map[string]int64
	// marks of the previous run, per path, dropped once the replay is over
	previous  map[string]fileMark
	persister operator.Persister
}

func newReplayGuard() *replayGuard {
	return &replayGuard{emitted: map[string]int64{}, previous: map[string]fileMark{}}
}

func (g *replayGuard) start(p operator.Persister) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.persister = p
	if p == nil {
		return nil
	}
	raw, err := p.Get(context.Background(), replayKey)
	if err != nil || len(raw) == 0 {
		return err
	}
	var marks map[string]fileMark
	if json.Unmarshal(raw, &marks) != nil {
		return nil // an unreadable mark only costs a possible duplicate batch
	}
	for path, m := range marks {
		head, n := fileHead(path, m.HeadLen)
		if n == m.HeadLen && bytes.Equal(head, m.Head) {
			g.previous[path] = m
		}
	}
	return nil
}

// keep reports whether the record at offset of path is new, and remembers it.
func (g *replayGuard) keep(path string, offset int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m, ok := g.previous[path]; ok {
		if offset <= m.Offset {
			return false
		}
		delete(g.previous, path)
	}
	// The last record, not the highest offset: a file truncated in place starts over.
	g.emitted[path] = offset
	return true
}

func (g *replayGuard) stop() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.persister == nil {
		return nil
	}
	marks := make(map[string]fileMark, len(g.emitted)+len(g.previous))
	for path, m := range g.previous {
		marks[path] = m
	}
	for path, off := range g.emitted {
		head, n := fileHead(path, headLen)
		marks[path] = fileMark{Offset: off, Head: head, HeadLen: n}
	}
	raw, err := json.Marshal(marks)
	if err != nil {
		return err
	}
	return g.persister.Set(context.Background(), replayKey, raw)
}

// fileHead hashes up to n first bytes of path and returns how many there were.
func fileHead(path string, n int) ([]byte, int) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	buf := make([]byte, n)
	got, _ := io.ReadFull(f, buf)
	sum := sha256.Sum256(buf[:got])
	return sum[:], got
}
