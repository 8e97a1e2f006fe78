package train_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/checkpoint"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// tinyRun trains a 1×4×4 model of kind for one epoch in dir and returns the
// path of its last checkpoint: a real file, small enough to fuzz.
func tinyRun(t testing.TB, kind, dir string) string {
	t.Helper()
	spec, err := models.DefaultSpec(kind, []int{1, 4, 4}, 2)
	require.NoError(t, err)
	switch {
	case len(spec.Hidden) > 0:
		spec.Hidden = []int{3}
	case len(spec.Channels) > 0:
		spec.Channels = []int{2}
	}
	m, err := models.New(spec)
	require.NoError(t, err)
	x := make([]float32, 12*16)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	d := &dataset.Dataset{Name: "tiny", X: x, N: 12, C: 1, H: 4, W: 4}
	cfg := train.Config{Epochs: 1, Batch: 4, LR: 1e-3, Seed: 3, OutDir: dir}
	_, err = train.Fit(context.Background(), m, d, nil, cfg)
	require.NoError(t, err)
	return filepath.Join(dir, train.LastName)
}

// rewrite loads the checkpoint at src, lets edit change it and saves it
// (bypassing every hourglass check) as name in dir.
func rewrite(t testing.TB, src, dir, name string, edit func(f *checkpoint.File)) string {
	t.Helper()
	f, err := checkpoint.Load(src)
	require.NoError(t, err)
	edit(f)
	dst := filepath.Join(dir, name)
	require.NoError(t, checkpoint.Save(dst, f))
	return dst
}

// editSpec rewrites the stored spec's JSON fields.
func editSpec(t testing.TB, change map[string]any) func(*checkpoint.File) {
	return func(f *checkpoint.File) {
		var spec map[string]any
		require.NoError(t, json.Unmarshal([]byte(f.Metadata["spec"]), &spec))
		for k, v := range change {
			spec[k] = v
		}
		b, err := json.Marshal(spec)
		require.NoError(t, err)
		f.Metadata["spec"] = string(b)
	}
}

// editState rewrites the stored training state's JSON fields.
func editState(t testing.TB, change map[string]any) func(*checkpoint.File) {
	return func(f *checkpoint.File) {
		var st map[string]any
		require.NoError(t, json.Unmarshal([]byte(f.Metadata["state"]), &st))
		for k, v := range change {
			st[k] = v
		}
		b, err := json.Marshal(st)
		require.NoError(t, err)
		f.Metadata["state"] = string(b)
	}
}

// setValue plants v at index 0 of the tensor called name.
func setValue(name string, v float32) func(*checkpoint.File) {
	return func(f *checkpoint.File) {
		for i := range f.Tensors {
			if f.Tensors[i].Name == name {
				f.Tensors[i].Data[0] = v
			}
		}
	}
}

func totalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLoadCheckpointRefusesHostileFiles: each hostile checkpoint ends in a
// one-line error naming the file and the problem, without a panic, a hang
// or an allocation beyond a few times the file's size.
func TestLoadCheckpointRefusesHostileFiles(t *testing.T) {
	dir := t.TempDir()
	good := tinyRun(t, "deep", filepath.Join(dir, "run"))
	fifo := filepath.Join(dir, "fifo.safetensors")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	truncated := filepath.Join(dir, "truncated.safetensors")
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, data[:len(data)-10], 0o644))
	bad := func(name string, edit func(*checkpoint.File)) string { return rewrite(t, good, dir, name, edit) }
	cases := []struct {
		name, path, want string
	}{
		{"fifo", fifo, "named pipe"},
		{"dev zero", "/dev/zero", "character device"},
		{"dev urandom", "/dev/urandom", "character device"},
		{"truncated", truncated, "corrupted or truncated"},
		{"input 1e6×1e6", bad("input.safetensors", editSpec(t, map[string]any{"input_shape": []int{1, 1000000, 1000000}})), "is over the limit of 65536"},
		{"latent 1e9", bad("latent.safetensors", editSpec(t, map[string]any{"latent": 1000000000})), "latent size 1000000000 is over the limit"},
		{"hidden 100000×2", bad("h100k.safetensors", editSpec(t, map[string]any{"hidden": []int{100000, 100000}})), "over the limit of 200000000"},
		{"hidden 12000×2", bad("h12k.safetensors", editSpec(t, map[string]any{"hidden": []int{12000, 12000}})), "over the limit of 200000000"},
		// Within the limits (about 58M parameters, 232 MB): refused by the
		// shape check before anything of that size is built.
		{"hidden 5000×2, small tensors", bad("h5k.safetensors", editSpec(t, map[string]any{"hidden": []int{5000, 5000}})), `tensor "decoder.0.b" has shape [3] but the deep model's spec needs [5000]`},
		{"other kind", bad("kind.safetensors", editSpec(t, map[string]any{"kind": "basic", "hidden": nil})), `tensor "decoder.0.b" has shape [3] but the basic model's spec needs [16]`},
		{"NaN bias", bad("nan.safetensors", setValue("decoder.1.b", float32(math.NaN()))), `weight "decoder.1.b" holds NaN at index 0`},
		{"Inf weight", bad("inf.safetensors", setValue("encoder.0.w", float32(math.Inf(-1)))), `weight "encoder.0.w" holds -Inf`},
		{"NaN optimizer state", bad("nanopt.safetensors", setValue("optim/v/encoder.0.w", float32(math.NaN()))), `optimizer tensor "optim/v/encoder.0.w" holds NaN`},
		{"negative epoch", bad("epoch.safetensors", editState(t, map[string]any{"epoch": -1})), "epoch is -1"},
		{"negative step", bad("step.safetensors", editState(t, map[string]any{"step": -5})), "step is -5"},
		{"negative pos", bad("pos.safetensors", editState(t, map[string]any{"pos": -2})), "pos is -2"},
		{"state not JSON", bad("state.safetensors", func(f *checkpoint.File) { f.Metadata["state"] = "{" }), "training state"},
		{"spec not JSON", bad("spec.safetensors", func(f *checkpoint.File) { f.Metadata["spec"] = "[]" }), "model spec"},
		{"not hourglass", bad("format.safetensors", func(f *checkpoint.File) { f.Metadata["format"] = "x" }), "not an hourglass checkpoint"},
		{"missing weight", bad("missing.safetensors", func(f *checkpoint.File) {
			f.Tensors = slices.DeleteFunc(f.Tensors, func(t checkpoint.Tensor) bool { return t.Name == "decoder.0.w" })
		}), `parameter "decoder.0.w" of the deep model is missing`},
		{"extra tensor", bad("extra.safetensors", func(f *checkpoint.File) {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: "x", Shape: []int{1}, Data: []float32{1}})
		}), `tensor "x" is not a parameter`},
		{"optimizer state of wrong size", bad("optsize.safetensors", func(f *checkpoint.File) {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: "optim/m2/encoder.0.b", Shape: []int{1}, Data: []float32{1}})
		}), `optimizer tensor "optim/m2/encoder.0.b" has 1 values but parameter encoder.0.b has shape [3]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Skipf("%s not available: %v", tc.path, err)
			}
			var l *train.Loaded
			done := make(chan struct{})
			alloc := totalAlloc(func() {
				go func() { defer close(done); l, err = train.LoadCheckpoint(tc.path) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("LoadCheckpoint(%s) blocked", tc.path)
				}
			})
			require.Error(t, err)
			assert.Nil(t, l)
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
			limit := uint64(max(10*fi.Size(), 1<<20))
			assert.Less(t, alloc, limit, "allocated %d bytes for a %d-byte file", alloc, fi.Size())
		})
	}
	// The untouched file still loads, with its values.
	l, err := train.LoadCheckpoint(good)
	require.NoError(t, err)
	assert.Equal(t, 1, l.State.Epoch)
	assert.Equal(t, 3, l.State.Step)
	assert.NotEmpty(t, l.Optim["m/encoder.0.w"])
}

// TestResumeWithoutOptimizerState: a checkpoint saved before the first step
// holds no optimizer buffers; resuming it says so, naming the file, and
// leaves the run untouched.
func TestResumeWithoutOptimizerState(t *testing.T) {
	dir := t.TempDir()
	good := tinyRun(t, "basic", dir)
	path := rewrite(t, good, dir, train.LastName, func(f *checkpoint.File) {
		f.Tensors = slices.DeleteFunc(f.Tensors, func(t checkpoint.Tensor) bool { return len(t.Name) > 6 && t.Name[:6] == "optim/" })
	})
	l, err := train.LoadCheckpoint(path)
	require.NoError(t, err, "a checkpoint without optimizer state can still be evaluated")
	assert.Empty(t, l.Optim)
	x := make([]float32, 12*16)
	d := &dataset.Dataset{Name: "tiny", X: x, N: 12, C: 1, H: 4, W: 4}
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	cfg := train.Config{Epochs: 2, Batch: 4, LR: 1e-3, Seed: 3, OutDir: dir, Resume: l}
	_, err = train.Fit(context.Background(), l.Model, d, nil, cfg)
	require.Error(t, err)
	assert.ErrorContains(t, err, path)
	assert.ErrorContains(t, err, "can be evaluated but not resumed")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// FuzzLoadCheckpoint: bytes written to a file and loaded as a checkpoint
// never panic, and a model that loads matches its spec with finite weights.
func FuzzLoadCheckpoint(f *testing.F) {
	dir := f.TempDir()
	for _, kind := range []string{"basic", "deep", "conv", "vae", "convvae"} {
		good := tinyRun(f, kind, filepath.Join(dir, kind))
		data, err := os.ReadFile(good)
		require.NoError(f, err)
		f.Add(data)
	}
	good := filepath.Join(dir, "deep", train.LastName)
	for i, edit := range []func(*checkpoint.File){
		editSpec(f, map[string]any{"hidden": []int{12000, 12000}}),
		editSpec(f, map[string]any{"input_shape": []int{1, 1000000, 1000000}}),
		editState(f, map[string]any{"epoch": -1}),
		setValue("decoder.1.b", float32(math.NaN())),
	} {
		data, err := os.ReadFile(rewrite(f, good, dir, "seed"+string(rune('a'+i)), edit))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(t.TempDir(), "in.safetensors")
		require.NoError(t, os.WriteFile(path, in, 0o644))
		l, err := train.LoadCheckpoint(path)
		if err != nil {
			require.Nil(t, l)
			require.Contains(t, err.Error(), path)
			return
		}
		shapes, err := models.ParamShapes(l.Model.Spec())
		require.NoError(t, err)
		params := l.Model.Params().List()
		require.Len(t, params, len(shapes))
		for i, p := range params {
			require.Equal(t, shapes[i].Shape, p.Shape)
			for _, v := range p.Data() {
				require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "%s holds %v", p.Name, v)
			}
		}
		require.GreaterOrEqual(t, l.State.Epoch, 0)
		require.GreaterOrEqual(t, l.State.Step, 0)
	})
}
