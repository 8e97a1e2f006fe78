package train

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files of a run directory besides the checkpoints and metrics.
const (
	// LockName is locked while a process trains into the directory.
	LockName = ".lock"
	// RunIDName holds the id of the run the directory belongs to; every
	// checkpoint of the run carries the same id (State.RunID).
	RunIDName = "run-id"
)

// ErrRunDirBusy marks a run directory another process is training into.
var ErrRunDirBusy = errors.New("run directory is in use")

// RunDir is a run directory held by this process: an exclusive lock on it
// (released by Close, or by the kernel if the process dies) keeps a second
// training from writing into it. Not safe for concurrent use.
type RunDir struct {
	Dir  string
	lock *os.File
}

// OpenRunDir creates dir if needed, locks it and removes the temporary
// files a killed process left behind (they can only be orphans while the
// lock is held).
func OpenRunDir(dir string) (*RunDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating run directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: another hourglass process is training into %s; wait for it, or choose another -out", ErrRunDirBusy, dir)
	}
	r := &RunDir{Dir: dir, lock: f}
	if err := r.sweep(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// sweep removes orphaned temporary files of atomic writes.
func (r *RunDir) sweep() error {
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return fmt.Errorf("run directory %s: %w", r.Dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		orphan := strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") || strings.HasSuffix(name, ".yaml.tmp")
		if orphan && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(r.Dir, name)); err != nil {
				return fmt.Errorf("removing the orphaned temporary file %s: %w", name, err)
			}
		}
	}
	return nil
}

// ID returns the run id stored in the directory, or "" for a directory
// no run has claimed.
func (r *RunDir) ID() (string, error) {
	b, err := os.ReadFile(filepath.Join(r.Dir, RunIDName))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("run directory %s: %w", r.Dir, err)
	}
	id := strings.TrimSpace(string(b))
	if len(id) == 0 || len(id) > 64 {
		return "", fmt.Errorf("run directory %s: %s holds %q, not a run id", r.Dir, RunIDName, id)
	}
	return id, nil
}

// Claim gives the directory a new run id and returns it.
func (r *RunDir) Claim() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b[:])
	return id, r.setID(id)
}

// setID records id as the directory's run.
func (r *RunDir) setID(id string) error {
	if err := os.WriteFile(filepath.Join(r.Dir, RunIDName), []byte(id+"\n"), 0o644); err != nil {
		return fmt.Errorf("run directory %s: %w", r.Dir, err)
	}
	return nil
}

// Close releases the lock.
func (r *RunDir) Close() error {
	if r == nil || r.lock == nil {
		return nil
	}
	err := r.lock.Close() // closing the descriptor releases the lock
	r.lock = nil
	return err
}
