package traincli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/checkpoint"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Run("train", args, &o, &e)
	return code, o.String(), e.String()
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated")
	require.NoError(t, os.Mkdir(truncated, 0o755))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte{0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3})
	require.NoError(t, zw.Close())
	// Cut the gzip stream in half.
	require.NoError(t, os.WriteFile(filepath.Join(truncated, "train-images-idx3-ubyte.gz"), gz.Bytes()[:gz.Len()/2], 0o644))
	magic := filepath.Join(dir, "magic")
	require.NoError(t, os.Mkdir(magic, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(magic, "train-images-idx3-ubyte"), []byte{0, 0, 8, 9, 0, 0, 0, 1}, 0o644))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing data dir", []string{"-data", filepath.Join(dir, "nope")}, "nope"},
		{"truncated gz", []string{"-data", truncated}, "train-images-idx3-ubyte.gz"},
		{"wrong magic", []string{"-data", magic}, "magic"},
		{"unknown model", []string{"-model", "nosuch"}, "valid: basic, deep, denoising, sparse, conv, vae, convvae"},
		{"zero batch", []string{"-batch", "0"}, "-batch 0"},
		{"negative epochs", []string{"-epochs", "-1"}, "-epochs -1"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
		{"unknown optimizer", []string{"-optimizer", "adagrad"}, `unknown optimizer "adagrad" (valid: adam, adamw, sgd, rmsprop)`},
		{"unknown schedule", []string{"-schedule", "linear"}, `unknown schedule "linear" (valid: constant, step, exponential, cosine, plateau)`},
		{"negative lr", []string{"-lr", "-0.1"}, "-lr -0.1: must be a positive number"},
		{"nesterov without momentum", []string{"-optimizer", "sgd", "-nesterov"}, "nesterov needs"},
		{"bad device", []string{"-device", "gpu"}, `unknown device "gpu"`},
		{"misplaced -tags", []string{"-tags", "cuda"}, "-tags is a flag of the go command"},
		{"config unknown key", []string{"-config", writeFile(t, dir, "unknown.yaml", "epochs: 2\nlearning-rate: 0.1\n")}, `unknown.yaml:2: unknown key "learning-rate"`},
		{"config wrong type", []string{"-config", writeFile(t, dir, "type.yaml", "epochs: two\n")}, `type.yaml:1: key "epochs": "two" is not a valid integer`},
		{"config wrong type json", []string{"-config", writeFile(t, dir, "type.json", `{"lr": "fast"}`)}, `key "lr": "fast" is not a valid number`},
		{"config bad value", []string{"-config", writeFile(t, dir, "neg.yaml", "lr: -1\n")}, "-lr -1: must be a positive number"},
		{"config missing", []string{"-config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"resume missing", []string{"-resume", filepath.Join(dir, "no-run")}, "no-run"},
		{"resume junk", []string{"-resume", writeFile(t, dir, "junk.safetensors", "not a checkpoint")}, "junk.safetensors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(append(tc.args, "-out", filepath.Join(dir, "run"))...)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
			assert.NotContains(t, stderr, "goroutine", "no stack trace")
		})
	}
}

func TestTrainJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCmd("-model", "basic", "-epochs", "2", "-batch", "128", "-out", out, "-json")
	require.Equal(t, 0, code, stderr)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &s), stdout)
	for _, k := range []string{"model", "epochs", "train_loss", "val_loss", "test_mse", "test_psnr", "epoch_seconds", "checkpoint", "pca_mse"} {
		assert.Contains(t, s, k)
	}
	assert.Equal(t, "basic", s["model"])
	assert.Len(t, s["epoch_seconds"], 2)
	assert.Less(t, s["test_mse"].(float64), 0.07)
	for _, f := range []string{"last.safetensors", "best.safetensors", "metrics.jsonl", "reconstructions.png"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// metricsWithoutSeconds reads a run's metrics.jsonl, dropping wall time.
func metricsWithoutSeconds(t *testing.T, dir string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		delete(m, "seconds")
		out = append(out, m)
	}
	return out
}

// quick are the settings of the small runs below: the basic model on the
// embedded sample, without the PCA baseline.
var quick = []string{"-model", "basic", "-batch", "128", "-no-pca"}

func TestConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	args := append([]string{"-epochs", "2", "-optimizer", "sgd", "-momentum", "0.9", "-lr", "0.05",
		"-schedule", "cosine", "-warmup", "5", "-clip-norm", "1", "-seed", "3", "-out", a}, quick...)
	code, _, stderr := runCmd(args...)
	require.Equal(t, 0, code, stderr)
	cfg, err := os.ReadFile(filepath.Join(a, "config.yaml"))
	require.NoError(t, err)
	for _, want := range []string{"optimizer: sgd\n", "momentum: 0.9\n", "schedule: cosine\n", "seed: 3\n", "epochs: 2\n", "model: basic\n"} {
		assert.Contains(t, string(cfg), want)
	}
	assert.NotContains(t, string(cfg), "out:", "a repeated run gets its own directory")

	b := filepath.Join(dir, "b")
	code, _, stderr = runCmd("-config", filepath.Join(a, "config.yaml"), "-out", b)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, b))
	cfgB, err := os.ReadFile(filepath.Join(b, "config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, strings.ReplaceAll(string(cfg), a, b), string(cfgB))

	// Flags on the command line override the file.
	c := filepath.Join(dir, "c")
	code, _, stderr = runCmd("-config", filepath.Join(a, "config.yaml"), "-out", c, "-epochs", "1")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, metricsWithoutSeconds(t, c), 1)
}

func TestResumeCommand(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	code, _, stderr := runCmd(append([]string{"-epochs", "3", "-early-stop", "2", "-schedule", "step", "-step-epochs", "1", "-gamma", "0.5", "-out", whole}, quick...)...)
	require.Equal(t, 0, code, stderr)

	part := filepath.Join(dir, "part")
	code, _, stderr = runCmd(append([]string{"-epochs", "2", "-early-stop", "2", "-schedule", "step", "-step-epochs", "1", "-gamma", "0.5", "-out", part}, quick...)...)
	require.Equal(t, 0, code, stderr)
	// Starting a new run over an existing one is refused.
	code, _, stderr = runCmd(append([]string{"-out", part}, quick...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already holds a run")

	before := snapshot(t, part)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", "deep"}, "-model deep conflicts with the run's -model basic"},
		{[]string{"-seed", "9"}, "-seed 9 conflicts with the run's -seed 1"},
		{[]string{"-optimizer", "sgd"}, "trained with the adam optimizer, not sgd"},
		{[]string{"-epochs", "1"}, "already at epoch 2"},
		{[]string{"-out", filepath.Join(dir, "elsewhere")}, "continues in its own directory"},
	} {
		code, _, stderr := runCmd(append([]string{"-resume", part}, tc.args...)...)
		assert.NotEqual(t, 0, code, tc.args)
		assert.Contains(t, stderr, tc.want)
		assertSame(t, before, snapshot(t, part))
	}

	code, _, stderr = runCmd("-resume", part, "-epochs", "3", "-json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "resuming from")
	assert.Equal(t, metricsWithoutSeconds(t, whole), metricsWithoutSeconds(t, part))
	assert.Equal(t, checkpointWeights(t, whole), checkpointWeights(t, part))
}

func TestResumeForeignCheckpoint(t *testing.T) {
	dir := t.TempDir()
	// A checkpoint written by train.Fit directly has no run configuration.
	splits, err := dataset.Load("sample")
	require.NoError(t, err)
	tr, val, err := splits.Train.Head(200).Split(0.2, 1)
	require.NoError(t, err)
	spec, err := models.DefaultSpec("basic", []int{1, 28, 28}, 0)
	require.NoError(t, err)
	m, err := models.New(spec)
	require.NoError(t, err)
	_, err = train.Fit(context.Background(), m, tr, val, train.Config{Epochs: 1, Batch: 40, LR: 1e-3, Seed: 1, OutDir: dir})
	require.NoError(t, err)
	code, _, stderr := runCmd("-resume", dir)
	assert.Equal(t, 1, code, "an unusable checkpoint is a failed input, not a usage error")
	assert.Contains(t, stderr, "holds no run configuration")

	// A corrupted checkpoint names itself and stays as it was.
	run := filepath.Join(dir, "run")
	code, _, stderr = runCmd(append([]string{"-epochs", "1", "-out", run}, quick...)...)
	require.Equal(t, 0, code, stderr)
	last := filepath.Join(run, "last.safetensors")
	data, err := os.ReadFile(last)
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff
	data = data[:len(data)-7]
	require.NoError(t, os.WriteFile(last, data, 0o644))
	before := snapshot(t, run)
	code, _, stderr = runCmd("-resume", run, "-epochs", "2")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, last)
	assertSame(t, before, snapshot(t, run))

	// Without last.safetensors the error points at the newest epoch checkpoint.
	require.NoError(t, os.Remove(last))
	code, _, stderr = runCmd("-resume", run, "-epochs", "2")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "last.safetensors is missing; its newest epoch checkpoint is "+filepath.Join(run, "epoch-0001.safetensors"))
}

// assertSame says which files of a run changed.
func assertSame(t *testing.T, before, after map[string]string) {
	t.Helper()
	assert.Equal(t, len(before), len(after), "files were added or removed")
	for name, b := range before {
		assert.True(t, b == after[name], "%s changed", name)
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func checkpointWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	l, err := train.LoadCheckpoint(filepath.Join(dir, "last.safetensors"))
	require.NoError(t, err)
	out := map[string][]float32{}
	for _, p := range l.Model.Params().List() {
		out[p.Name] = p.Data()
	}
	return out
}

func TestTrainCSVStoresScaler(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,c,d\n")
	for i := 0; i < 200; i++ {
		x := float64(i % 17)
		// Columns on very different scales: min-max scaling must bring them to [0,1].
		fmt.Fprintf(&b, "%g,%g,%g,%g\n", x, 1000+50*x, -x/100, 3.0)
	}
	csv := filepath.Join(dir, "t.csv")
	require.NoError(t, os.WriteFile(csv, []byte(b.String()), 0o644))
	out := filepath.Join(dir, "run")
	code, stdout, stderr := runCmd("-model", "basic", "-latent", "2", "-data", csv, "-epochs", "2", "-batch", "16", "-out", out, "-json")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, `"test_mse"`)
	f, err := checkpoint.Load(filepath.Join(out, "last.safetensors"))
	require.NoError(t, err)
	var sc dataset.Scaler
	require.NoError(t, json.Unmarshal([]byte(f.Metadata["scaler"]), &sc))
	assert.Equal(t, "minmax", sc.Kind)
	require.Len(t, sc.A, 4)
	assert.InDelta(t, 1000, sc.A[1], 1e-3, "min of column b on the training split")
}

// TestFailedStartLeavesNoDirectory: a run that fails before its first
// checkpoint (here a batch larger than the data) removes the run
// directory it created, and leaves one it did not create in place.
func TestFailedStartLeavesNoDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCmd("-model", "basic", "-no-pca", "-epochs", "1", "-batch", "100000", "-out", dir)
	require.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "larger than the")
	assert.NoDirExists(t, dir)

	mine := t.TempDir()
	code, _, stderr = runCmd("-model", "basic", "-no-pca", "-epochs", "1", "-batch", "100000", "-out", mine)
	require.Equal(t, 1, code, stderr)
	assert.DirExists(t, mine, "a directory the user made stays")
}

// TestCheckpointMetadataIsJSON: every metadata value but the format tag is
// JSON, so Python reads the stored settings with json.loads.
func TestCheckpointMetadataIsJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCmd("-model", "basic", "-no-pca", "-epochs", "1", "-batch", "64", "-out", dir)
	require.Equal(t, 0, code, stderr)
	f, err := checkpoint.Load(filepath.Join(dir, "last.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, "hourglass/1", f.Metadata["format"])
	for k, v := range f.Metadata {
		if k == "format" {
			continue
		}
		var x any
		assert.NoError(t, json.Unmarshal([]byte(v), &x), "metadata %q is not JSON: %.80s", k, v)
	}
	var settings map[string]any
	require.NoError(t, json.Unmarshal([]byte(f.Metadata[train.MetaConfig]), &settings))
	assert.Equal(t, 1.0, settings["epochs"])
	assert.Equal(t, "basic", settings["model"])

	// And -resume reads it back.
	code, _, stderr = runCmd("-resume", dir, "-epochs", "2")
	require.Equal(t, 0, code, stderr)
}
