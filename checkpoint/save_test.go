package checkpoint

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigFile returns a checkpoint of n float32 values all equal to gen, with gen
// recorded in metadata, so a reader can check the file is self-consistent.
func bigFile(gen, n int) *File {
	half := n / 2
	a := make([]float32, half)
	b := make([]float32, n-half)
	for i := range a {
		a[i] = float32(gen)
	}
	for i := range b {
		b[i] = float32(gen)
	}
	return &File{
		Tensors:  []Tensor{{Name: "a", Shape: []int{half}, Data: a}, {Name: "b", Shape: []int{n - half}, Data: b}},
		Metadata: map[string]string{"gen": strconv.Itoa(gen)},
	}
}

// checkConsistent loads path and verifies every value matches the
// generation in its metadata, returning that generation.
func checkConsistent(t *testing.T, path string, n int) int {
	t.Helper()
	f, err := Load(path)
	require.NoError(t, err, "checkpoint at %s must always load", path)
	gen, err := strconv.Atoi(f.Metadata["gen"])
	require.NoError(t, err)
	total := 0
	for _, tn := range f.Tensors {
		total += len(tn.Data)
		for i, v := range tn.Data {
			if v != float32(gen) {
				require.FailNow(t, "mixed generations", "tensor %s[%d]=%v but metadata gen=%d", tn.Name, i, v, gen)
			}
		}
	}
	require.Equal(t, n, total)
	return gen
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	const n = 1 << 20 // 4 MiB of data: several buffered writes reach the temp file.
	for _, stage := range []string{"create", "write", "sync", "close", "rename"} {
		t.Run(stage, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			require.NoError(t, Save(path, bigFile(1, n)))
			before, err := os.ReadFile(path)
			require.NoError(t, err)

			injected := errors.New("injected fault")
			writes := 0
			sawPartial := false
			err = saveWith(path, bigFile(2, n), func(s string) error {
				if s == "write" {
					writes++
					if stage == "write" && writes == 2 {
						// Partial bytes are on disk in the temp file now.
						tmps := tempFiles(t, dir)
						require.Len(t, tmps, 1)
						fi, err := os.Stat(filepath.Join(dir, tmps[0]))
						require.NoError(t, err)
						sawPartial = fi.Size() > 0
						return injected
					}
					return nil
				}
				if s == stage {
					return injected
				}
				return nil
			})
			require.Error(t, err)
			assert.ErrorIs(t, err, injected)
			assert.Contains(t, err.Error(), path)
			if stage == "write" {
				assert.True(t, sawPartial, "fault must hit after partial bytes were written")
			}

			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, before, after, "old checkpoint must be byte-identical")
			assert.Equal(t, 1, checkConsistent(t, path, n))
			assert.Empty(t, tempFiles(t, dir), "temp file must be removed")
		})
	}
}

func TestSaveOverwritesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	require.NoError(t, Save(path, bigFile(1, 10)))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	require.NoError(t, os.Chmod(path, 0o600))
	require.NoError(t, Save(path, bigFile(2, 10)))
	assert.Equal(t, 2, checkConsistent(t, path, 10))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Empty(t, tempFiles(t, dir))
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	err := Save(filepath.Join(dir, "no-such-dir", "m.safetensors"), bigFile(1, 4))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-dir")

	err = Save(dir, bigFile(1, 4)) // a directory is not a checkpoint path
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a regular file")
}

const (
	helperEnv     = "HOURGLASS_CHECKPOINT_CRASH_HELPER"
	helperPathEnv = "HOURGLASS_CHECKPOINT_CRASH_PATH"
	crashValues   = 12 << 20 // 48 MiB of float32 per checkpoint
)

// TestHelperProcess is not a real test: run as a child by
// TestSaveSurvivesSIGKILL, it saves large checkpoints in a loop until killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestSaveSurvivesSIGKILL")
	}
	path := os.Getenv(helperPathEnv)
	for gen := 2; ; gen++ {
		f := bigFile(gen, crashValues)
		fmt.Printf("saving %d\n", gen)
		if err := Save(path, f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
}

func TestSaveSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~50 MB checkpoints repeatedly")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	require.NoError(t, Save(path, bigFile(1, crashValues)))

	// Seeded, so a failure names the kill points that produced it and
	// reruns them; HOURGLASS_KILL_SEED explores others.
	seed := uint64(20261202)
	if v := os.Getenv("HOURGLASS_KILL_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	t.Logf("kill seed %d (set HOURGLASS_KILL_SEED to change)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	seen := map[int]bool{}
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=1", helperPathEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(stdout)
		require.True(t, sc.Scan(), "helper never started saving")
		// Kill at a random point: mid-encode, mid-fsync or between saves.
		delay := time.Duration(rng.IntN(400)) * time.Millisecond
		time.Sleep(delay)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		for sc.Scan() {
		}
		_ = cmd.Wait()

		gen := checkConsistent(t, path, crashValues)
		seen[gen] = true
		t.Logf("round %d: killed after %v, checkpoint holds complete generation %d", round, delay, gen)
		// Temp files from the killed save may remain; they never affect path.
		for _, name := range tempFiles(t, dir) {
			require.NoError(t, os.Remove(filepath.Join(dir, name)))
		}
	}
	t.Logf("generations observed after kills: %v", seen)
}
