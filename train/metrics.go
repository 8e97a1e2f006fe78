package train

import (
	"encoding/json"
	"fmt"
	"os"
)

// metricsWriter appends one JSON object per epoch to metrics.jsonl, synced
// after each line so that a crash loses at most the epoch in progress.
type metricsWriter struct {
	f    *os.File
	path string
}

func openMetrics(path string) (*metricsWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening metrics file: %w", err)
	}
	return &metricsWriter{f: f, path: path}, nil
}

func (w *metricsWriter) Write(st EpochStats) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding metrics: %w", err)
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return w.f.Sync()
}

func (w *metricsWriter) Close() error { return w.f.Close() }
