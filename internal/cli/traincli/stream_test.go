package traincli

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/train"
)

// npyShards writes shards part-000.npy… of rows×dim float32 values on two
// latent factors into a new directory.
func npyShards(t *testing.T, shards, rows, dim int) string {
	t.Helper()
	dir := t.TempDir()
	for s := range shards {
		x := make([]float32, 0, rows*dim)
		for r := range rows {
			i := float64(s*rows + r)
			u, v := math.Sin(i), math.Cos(3*i)
			for j := range dim {
				x = append(x, float32(5+u*float64(j-2)+v*float64(j%3)))
			}
		}
		require.NoError(t, eval.WriteNPY(filepath.Join(dir, fmt.Sprintf("part-%03d.npy", s)), x, []int{rows, dim}))
	}
	return dir
}

// streamed are the settings of the small streamed runs below.
var streamed = []string{"-buffer", "50", "-batch", "30", "-save-every", "1"}

func TestStreamedRunIsRepeatableAndResumable(t *testing.T) {
	data := npyShards(t, 4, 150, 6)
	dir := t.TempDir()
	a, b, part := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "part")
	s, stderr := trainJSON(t, append([]string{"-data", data, "-epochs", "3", "-out", a}, streamed...)...)
	assert.Contains(t, stderr, "validation: the last shard, "+filepath.Join(data, "part-003.npy")+" (150 samples), is held out")
	assert.Contains(t, stderr, "streaming "+data+": 450 samples of 1×1×6 in 3 shards")
	assert.EqualValues(t, 450, s["train_n"])
	assert.EqualValues(t, 150, s["eval_n"])
	assert.Equal(t, "validation data (held-out shard "+filepath.Join(data, "part-003.npy")+")", s["eval_on"])
	assert.Equal(t, "minmax", s["scale"])
	assert.Less(t, s["test_mse"], 0.1)
	cfg, err := os.ReadFile(filepath.Join(a, ConfigName))
	require.NoError(t, err)
	assert.Contains(t, string(cfg), "buffer: 50\n")
	loaded, err := train.LoadCheckpoint(filepath.Join(a, train.LastName))
	require.NoError(t, err)
	src, err := StoredSource(loaded)
	require.NoError(t, err)
	assert.True(t, src.Streamed)
	_, err = src.Load()
	assert.ErrorContains(t, err, "the run streamed the shards of "+data+", which are not loaded whole")

	// The same flags give the same run; so does replaying its config.yaml.
	code, _, stderr := runCmd(append([]string{"-data", data, "-epochs", "3", "-out", b}, streamed...)...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, checkpointWeights(t, a), checkpointWeights(t, b))
	assert.Equal(t, metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, b))

	// A run of 2 epochs resumed to 3 is the 3-epoch run.
	code, _, stderr = runCmd(append([]string{"-data", data, "-epochs", "2", "-out", part}, streamed...)...)
	require.Equal(t, 0, code, stderr)
	code, _, stderr = runCmd("-resume", part, "-epochs", "3")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, checkpointWeights(t, a), checkpointWeights(t, part))
	assert.Equal(t, metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, part))

	// A buffer holding all the data shuffles differently: the buffer is part of the run.
	c := filepath.Join(dir, "c")
	code, _, stderr = runCmd("-data", data, "-epochs", "3", "-out", c, "-buffer", "1000", "-batch", "30")
	require.Equal(t, 0, code, stderr)
	assert.NotEqual(t, checkpointWeights(t, a), checkpointWeights(t, c))
}

func TestStreamedRunValidatesOnValData(t *testing.T) {
	data := npyShards(t, 2, 100, 6)
	val := filepath.Join(npyShards(t, 1, 40, 6), "part-000.npy")
	s, stderr := trainJSON(t, append([]string{"-data", filepath.Join(data, "part-*.npy"), "-val-data", val, "-epochs", "1", "-out", filepath.Join(t.TempDir(), "run")}, streamed...)...)
	assert.NotContains(t, stderr, "held out")
	assert.EqualValues(t, 200, s["train_n"])
	assert.EqualValues(t, 40, s["eval_n"])
	assert.Equal(t, "validation data (-val-data "+val+")", s["eval_on"])
}

// TestStreamedBadShards: a damaged shard, or flags that do not apply to
// streamed data, fail in one line naming the shard and row (or the flag)
// before anything is written, and a resumed run keeps its files as they were.
func TestStreamedBadShards(t *testing.T) {
	truncated := npyShards(t, 3, 50, 6)
	p := filepath.Join(truncated, "part-001.npy")
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(p, st.Size()-10*6*4-12)) // 39 whole rows and half of row 39
	wide := npyShards(t, 3, 50, 6)
	require.NoError(t, eval.WriteNPY(filepath.Join(wide, "part-001.npy"), make([]float32, 50*7), []int{50, 7}))
	wideLast := npyShards(t, 3, 50, 6)
	require.NoError(t, eval.WriteNPY(filepath.Join(wideLast, "part-002.npy"), make([]float32, 50*7), []int{50, 7}))
	ragged := t.TempDir()
	writeFile(t, ragged, "a.csv", "x,y\n1,2\n3,4\n")
	writeFile(t, ragged, "b.csv", "x,y\n1,2\n3,4,5\n")
	one := npyShards(t, 1, 50, 6)
	otherVal := filepath.Join(npyShards(t, 1, 50, 5), "part-000.npy")
	good := npyShards(t, 3, 50, 6)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"truncated shard", []string{"-data", truncated}, 1, "shard " + p + ": row 39: truncated: 12 of 24 bytes (the header announces 50 rows)"},
		{"wrong-width shard", []string{"-data", wide}, 1, "shard " + filepath.Join(wide, "part-001.npy") + ": row 0: 7 values per sample (1×1×7) but the samples of " + filepath.Join(wide, "part-000.npy") + " hold 6"},
		{"wrong-width validation shard", []string{"-data", wideLast}, 1, "shard " + filepath.Join(wideLast, "part-002.npy") + " (held out for validation): row 0: 7 values per sample but the training shards of " + wideLast + " hold 6"},
		{"ragged CSV shard", []string{"-data", filepath.Join(ragged, "*.csv"), "-stream"}, 1, "shard " + filepath.Join(ragged, "b.csv") + ": line 3: 3 fields, want 2"},
		{"one shard", []string{"-data", one}, 1, "only " + filepath.Join(one, "part-000.npy") + ": give -val-data FILE"},
		{"val-data of other width", []string{"-data", good, "-val-data", otherVal}, 1, "validation data " + otherVal + ": 5 values per sample, but the training shards of " + good + " hold 6"},
		{"val-frac", []string{"-data", good, "-val-frac", "0.2"}, 2, "-val-frac 0.2 applies to data loaded whole"},
		{"robust scale", []string{"-data", good, "-scale", "robust"}, 2, "-scale robust needs the data loaded whole"},
		{"bad buffer", []string{"-data", good, "-buffer", "0"}, 2, "-buffer 0: must be a positive number"},
		{"buffer of data loaded whole", []string{"-buffer", "5"}, 2, "-buffer 5 applies to streamed training"},
		{"val-data of data loaded whole", []string{"-val-data", otherVal}, 2, "-val-data " + otherVal + " applies to streamed training"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			code, _, stderr := runCmd(append(tc.args, "-out", out)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
			assert.NoDirExists(t, out, "nothing written")
		})
	}

	// Resuming on a shard damaged since leaves the run as it was.
	run := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCmd(append([]string{"-data", good, "-epochs", "1", "-out", run}, streamed...)...)
	require.Equal(t, 0, code, stderr)
	before := snapshot(t, run)
	bad := filepath.Join(good, "part-000.npy")
	require.NoError(t, os.Truncate(bad, 128+20*6*4+4))
	code, _, stderr = runCmd("-resume", run, "-epochs", "2")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "shard "+bad+": row 20: truncated: 4 of 24 bytes")
	assertSame(t, before, snapshot(t, run))
}

func TestHelpDocumentsStreaming(t *testing.T) {
	code, stdout, _ := runCmd("-h")
	require.Equal(t, 0, code)
	for _, want := range []string{"Data larger than memory", "-buffer", "-val-data", "-stream", "hourglass train -data shards/"} {
		assert.Contains(t, stdout, want)
	}
}
