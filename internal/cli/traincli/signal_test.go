package traincli

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childArgs, when set in the environment, makes the test binary run the
// command itself with these arguments (separated by \x1f), so a test can
// send it real signals.
const childArgs = "HOURGLASS_TRAIN_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a, ok := os.LookupEnv(childArgs); ok {
		os.Exit(Run("train", strings.Split(a, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSIGINTThenResume interrupts a 30-epoch run after its first epoch with
// SIGINT, resumes it with -resume and expects the unbroken run's metrics and
// weights. Thirty epochs leave the signal time to land on a loaded host
// (with two, the child sometimes finished before it arrived).
func TestSIGINTThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command three times")
	}
	dir := t.TempDir()
	args := []string{"-model", "basic", "-batch", "32", "-no-pca", "-epochs", "30", "-optimizer", "sgd", "-momentum", "0.9",
		"-lr", "0.05", "-schedule", "cosine", "-warmup", "20", "-early-stop", "10"}
	whole := filepath.Join(dir, "whole")
	code, _, stderr := runCmd(append(args, "-out", whole)...)
	require.Equal(t, 0, code, stderr)

	cut := filepath.Join(dir, "cut")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(append(args, "-out", cut), "\x1f"))
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var log strings.Builder
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "epoch 1/30") {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, log.String())
	assert.Equal(t, exitInterrupted, exit.ExitCode(), log.String())
	assert.Contains(t, log.String(), "training interrupted")
	assert.Contains(t, log.String(), "resume with: train -resume "+cut)
	assert.NotContains(t, log.String(), "epoch 30/30", "the signal should land before the last epoch")

	code, _, stderr = runCmd("-resume", cut)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, metricsWithoutSeconds(t, whole), metricsWithoutSeconds(t, cut))
	assert.Equal(t, checkpointWeights(t, whole), checkpointWeights(t, cut))
}

// TestTwoProcessesOneRunDir starts a second training into the run
// directory a first one is writing: the second must fail at once, naming
// the directory, and the first must finish its run untouched.
func TestTwoProcessesOneRunDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command twice")
	}
	dir := filepath.Join(t.TempDir(), "run")
	// Twenty epochs, so the first run is still training when the second starts.
	args := []string{"-model", "basic", "-batch", "32", "-no-pca", "-epochs", "20", "-out", dir}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"))
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(errPipe)
	var log strings.Builder
	second := -1
	var secondErr string
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if second < 0 && strings.HasPrefix(sc.Text(), "training basic") {
			second, _, secondErr = runCmd(args...)
		}
	}
	require.NoError(t, cmd.Wait(), log.String())
	assert.Equal(t, exitFail, second, secondErr)
	assert.Contains(t, secondErr, "another hourglass process is training into "+dir)
	assert.Len(t, metricsWithoutSeconds(t, dir), 20, "the first run completes all its epochs")
}
