package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
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
		{"unknown model", []string{"-model", "nosuch"}, "valid: basic, deep"},
		{"zero batch", []string{"-batch", "0"}, "-batch 0"},
		{"negative epochs", []string{"-epochs", "-1"}, "-epochs -1"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
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
