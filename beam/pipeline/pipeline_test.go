package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/internal/cli/evalcli"
)

const dim = 6

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// sample is row i of a synthetic table: points near a 2-d plane, every
// 23rd one pushed off it (an anomaly).
func sample(i int) []float32 {
	a, b := math.Sin(float64(i)*0.37), math.Cos(float64(i)*0.11)
	x := []float32{float32(a), float32(b), float32(a + b), float32(a - b), float32(2 * a), float32(0.5 * b)}
	if i%23 == 0 {
		x[i%dim] += 3
	}
	return x
}

// trained trains a small model once per test binary run and returns its
// checkpoint.
func trained(t *testing.T) string {
	t.Helper()
	var x []float32
	for i := range 400 {
		x = append(x, sample(i)...)
	}
	d, err := hourglass.NewDataset("plane", x, dim)
	require.NoError(t, err)
	out := t.TempDir()
	_, _, err = hourglass.Train(context.Background(), d, hourglass.Config{Kind: "basic", Latent: 2, Epochs: 2, Batch: 32, OutDir: out})
	require.NoError(t, err)
	return filepath.Join(out, hourglass.ModelFile)
}

// shard is one input file and what it holds.
type shard struct {
	path string
	pos  []int64 // line (CSV) or index (.npy) of each row
	x    []float32
}

func writeCSVShard(t *testing.T, path string, first, n int, header string, blankEvery int) shard {
	t.Helper()
	s := shard{path: path}
	var b strings.Builder
	line := 0
	if header != "" {
		b.WriteString(header + "\n")
		line++
	}
	for i := first; i < first+n; i++ {
		if blankEvery > 0 && i%blankEvery == 0 {
			b.WriteString("\n")
			line++
		}
		x := sample(i)
		cells := make([]string, 0, dim+1)
		for _, v := range x {
			cells = append(cells, strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		if strings.HasSuffix(header, ",label") {
			cells = append(cells, strconv.Itoa(i%2))
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
		line++
		s.pos = append(s.pos, int64(line))
		s.x = append(s.x, x...)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return s
}

func writeNPYShard(t *testing.T, path string, first, n int) shard {
	t.Helper()
	s := shard{path: path}
	for i := range n {
		s.pos = append(s.pos, int64(i))
		s.x = append(s.x, sample(first+i)...)
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	require.NoError(t, writeCodesNPY(w, []Scored{{Pos: s.pos, Codes: s.x}}, dim))
	require.NoError(t, w.Flush())
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return s
}

// result is one output row.
type result struct {
	score float64
	flag  bool
	code  []float32
}

// readScores reads every scores shard (and codes shard, if any) of prefix.
func readScores(t *testing.T, prefix string, shards int, codes string) map[string]result {
	t.Helper()
	out := map[string]result{}
	for i := range shards {
		f, err := os.Open(ShardName(prefix, "scores", i, shards, "csv"))
		require.NoError(t, err, "every shard is written, empty or not")
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		require.NoError(t, err)
		require.Equal(t, []string{"file", "row", "score", "flag"}, recs[0])
		var keys []string
		for _, r := range recs[1:] {
			score, err := strconv.ParseFloat(r[2], 64)
			require.NoError(t, err)
			key := r[0] + ":" + r[1]
			_, dup := out[key]
			require.False(t, dup, "row %s written twice", key)
			out[key] = result{score: score, flag: r[3] == "1"}
			keys = append(keys, key)
		}
		var codeRows [][]float32
		switch codes {
		case "csv":
			f, err := os.Open(ShardName(prefix, "codes", i, shards, "csv"))
			require.NoError(t, err)
			recs, err := csv.NewReader(f).ReadAll()
			f.Close()
			require.NoError(t, err)
			for j, r := range recs[1:] {
				require.Equal(t, keys[j], r[0]+":"+r[1], "codes rows follow score rows")
				var c []float32
				for _, v := range r[2:] {
					x, err := strconv.ParseFloat(v, 32)
					require.NoError(t, err)
					c = append(c, float32(x))
				}
				codeRows = append(codeRows, c)
			}
		case "npy":
			f, err := os.Open(ShardName(prefix, "codes", i, shards, "npy"))
			require.NoError(t, err)
			r, err := dataset.OpenShard(f, f.Name(), dataset.FormatNPY)
			require.NoError(t, err)
			for {
				c := make([]float32, r.Dim())
				if _, err := r.Next(c); errors.Is(err, io.EOF) {
					break
				} else {
					require.NoError(t, err)
				}
				codeRows = append(codeRows, c)
			}
			f.Close()
		}
		if codes != "" {
			require.Len(t, codeRows, len(keys))
			for j, k := range keys {
				r := out[k]
				r.code = codeRows[j]
				out[k] = r
			}
		}
	}
	return out
}

func TestPipelineScoresEveryRowLikeModelScore(t *testing.T) {
	ckpt := trained(t)
	m, err := hourglass.Load(ckpt)
	require.NoError(t, err)
	defer m.Close()
	thr, ok := m.Threshold()
	require.True(t, ok)

	for _, tc := range []struct {
		name   string
		codes  string
		shards int
		chunk  int
		input  func(dir string) (string, []shard)
	}{
		{"csv shards, codes as csv", "csv", 3, 64, func(dir string) (string, []shard) {
			return filepath.Join(dir, "part-*.csv"), []shard{
				writeCSVShard(t, filepath.Join(dir, "part-0.csv"), 0, 300, "f0,f1,f2,f3,f4,f5", 0),
				writeCSVShard(t, filepath.Join(dir, "part-1.csv"), 300, 17, "", 0),
				writeCSVShard(t, filepath.Join(dir, "part-2.csv"), 317, 290, "f0,f1,f2,f3,f4,f5,label", 50),
			}
		}},
		{"npy shards, codes as npy, more output shards than chunks", "npy", 7, 256, func(dir string) (string, []shard) {
			return filepath.Join(dir, "*.npy"), []shard{
				writeNPYShard(t, filepath.Join(dir, "a.npy"), 1000, 260),
				writeNPYShard(t, filepath.Join(dir, "b.npy"), 2000, 5),
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			glob, inputs := tc.input(dir)
			prefix := filepath.Join(dir, "out", "batch")
			p, s := beam.NewPipelineWithRoot()
			_, err := Build(s, Options{Input: glob, Checkpoint: ckpt, Output: prefix, Shards: tc.shards, Chunk: tc.chunk, Codes: tc.codes})
			require.NoError(t, err)
			_, err = beam.Run(context.Background(), "direct", p)
			require.NoError(t, err)

			got := readScores(t, prefix, tc.shards, tc.codes)
			total := 0
			for _, in := range inputs {
				want, err := m.Score(in.x)
				require.NoError(t, err)
				codes, err := m.Encode(in.x)
				require.NoError(t, err)
				k := m.CodeDim()
				for i, pos := range in.pos {
					r, ok := got[fmt.Sprintf("%s:%d", in.path, pos)]
					require.True(t, ok, "row %d of %s missing", pos, in.path)
					assert.Equal(t, want[i], r.score, "%s row %d", in.path, pos)
					assert.Equal(t, want[i] > thr.Value, r.flag, "%s row %d", in.path, pos)
					assert.Equal(t, codes[i*k:(i+1)*k], r.code, "%s row %d", in.path, pos)
				}
				total += len(in.pos)
			}
			assert.Len(t, got, total)
		})
	}
}

// TestPipelineOnPrismMatchesDirect runs the pipeline on prism, Beam's
// portable local runner (the Fn API path Flink, Spark and Dataflow use,
// with DoFns serialized to the worker), and checks that it writes what the
// direct runner writes.
func TestPipelineOnPrismMatchesDirect(t *testing.T) {
	ckpt := trained(t)
	dir := t.TempDir()
	writeCSVShard(t, filepath.Join(dir, "a.csv"), 0, 150, "x0,x1,x2,x3,x4,x5", 0)
	writeCSVShard(t, filepath.Join(dir, "b.csv"), 150, 70, "", 0)
	thr := 0.01
	out := map[string]string{}
	for _, runner := range []string{"direct", "prism"} {
		prefix := filepath.Join(dir, runner, "batch")
		p, s := beam.NewPipelineWithRoot()
		_, err := Build(s, Options{Input: filepath.Join(dir, "*.csv"), Checkpoint: ckpt, Output: prefix, Shards: 2, Chunk: 50, Codes: "csv", Threshold: &thr})
		require.NoError(t, err)
		_, err = beam.Run(context.Background(), runner, p)
		require.NoError(t, err, runner)
		for _, kind := range []string{"scores", "codes"} {
			for i := range 2 {
				b, err := os.ReadFile(ShardName(prefix, kind, i, 2, "csv"))
				require.NoError(t, err)
				out[runner+kind+strconv.Itoa(i)] += string(b)
			}
		}
	}
	for k, v := range out {
		if strings.HasPrefix(k, "prism") {
			assert.Equal(t, out["direct"+strings.TrimPrefix(k, "prism")], v, k)
		}
	}
	assert.Equal(t, 220+2, strings.Count(out["directscores0"]+out["directscores1"], "\n"))
}

// TestPipelineAgreesWithHourglassEval checks one shard's scores against
// scores.csv from `hourglass eval -task anomaly` (printed to 8 digits).
func TestPipelineAgreesWithHourglassEval(t *testing.T) {
	ckpt := trained(t)
	dir := t.TempDir()
	in := writeCSVShard(t, filepath.Join(dir, "part-0.csv"), 0, 120, "", 0)
	prefix := filepath.Join(dir, "out", "batch")
	p, s := beam.NewPipelineWithRoot()
	_, err := Build(s, Options{Input: in.path, Checkpoint: ckpt, Output: prefix, Shards: 2, Chunk: 32})
	require.NoError(t, err)
	_, err = beam.Run(context.Background(), "direct", p)
	require.NoError(t, err)
	got := readScores(t, prefix, 2, "")

	var stdout, stderr bytes.Buffer
	evalOut := filepath.Join(dir, "eval")
	code := evalcli.Run("hourglass eval", []string{"-checkpoint", ckpt, "-data", in.path, "-task", "anomaly", "-out", evalOut}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	f, err := os.Open(filepath.Join(evalOut, "scores.csv"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "recon_error", recs[0][1])
	require.Len(t, recs, len(in.pos)+1)
	for i, r := range recs[1:] {
		want, err := strconv.ParseFloat(r[1], 64)
		require.NoError(t, err)
		g := got[fmt.Sprintf("%s:%d", in.path, in.pos[i])]
		assert.InEpsilon(t, want, g.score, 1e-6, "row %d", i)
	}
}

func TestBuildRejectsBadOptions(t *testing.T) {
	ckpt := trained(t)
	neg := math.Inf(1)
	for _, tc := range []struct {
		name string
		opt  Options
		want string
	}{
		{"no input", Options{Output: "o", Checkpoint: ckpt, Shards: 1, Chunk: 1}, "input, output and checkpoint are all required"},
		{"zero shards", Options{Input: "i", Output: "o", Checkpoint: ckpt, Chunk: 1}, "0 output shards"},
		{"codes format", Options{Input: "i", Output: "o", Checkpoint: ckpt, Shards: 1, Chunk: 1, Codes: "parquet"}, `codes format "parquet"`},
		{"missing checkpoint", Options{Input: "i", Output: "o", Checkpoint: ckpt + ".missing", Shards: 1, Chunk: 1}, "checkpoint"},
		{"infinite threshold", Options{Input: "i", Output: "o", Checkpoint: ckpt, Shards: 1, Chunk: 1, Threshold: &neg}, "threshold +Inf is not a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := beam.NewPipelineWithRoot()
			_, err := Build(s, tc.opt)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestPipelineFailsNamingTheBadShardAndRow(t *testing.T) {
	ckpt := trained(t)
	dir := t.TempDir()
	writeCSVShard(t, filepath.Join(dir, "good.csv"), 0, 10, "", 0)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("1,2,3,4,5,6\n1,2,3\n"), 0o644))
	p, s := beam.NewPipelineWithRoot()
	_, err := Build(s, Options{Input: filepath.Join(dir, "*.csv"), Checkpoint: ckpt, Output: filepath.Join(dir, "out"), Shards: 1, Chunk: 4})
	require.NoError(t, err)
	_, err = beam.Run(context.Background(), "direct", p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.csv: line 2: 3 fields, want 6")
}
