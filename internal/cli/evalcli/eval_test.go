package evalcli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/internal/cli/traincli"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// ckpt is a deep model trained in TestMain for one epoch on a slice of the
// embedded sample; its run directory also holds metrics.jsonl.
var ckpt string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eval-test")
	if err != nil {
		panic(err)
	}
	ckpt, err = trainFixture(filepath.Join(dir, "run"))
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func trainFixture(dir string) (string, error) {
	s, err := dataset.Load("sample")
	if err != nil {
		return "", err
	}
	spec, err := models.DefaultSpec("deep", []int{1, 28, 28}, 0)
	if err != nil {
		return "", err
	}
	m, err := models.New(spec)
	if err != nil {
		return "", err
	}
	res, err := train.Fit(context.Background(), m, s.Train.Head(1000), s.Test.Head(200),
		train.Config{Epochs: 1, Batch: 64, LR: 2e-3, Seed: 1, OutDir: dir})
	if err != nil {
		return "", err
	}
	return res.Checkpoint, nil
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Run("eval", args, &o, &e)
	return code, o.String(), e.String()
}

func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := runCmd(append(args, "-json")...)
	require.Equal(t, 0, code, stderr)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &s), stdout)
	return s
}

func TestTasks(t *testing.T) {
	for _, tc := range []struct {
		task  string
		extra []string
		keys  []string
		files []string
	}{
		{"recon", nil, []string{"mse", "bce", "psnr", "ssim", "compression_ratio"}, []string{"reconstructions.png"}},
		{"denoise", []string{"-noise-std", "0.4"}, []string{"noisy_psnr", "noisy_ssim", "denoised_psnr", "denoised_ssim"}, []string{"denoising.png"}},
		{"anomaly", []string{"-normal-class", "1"}, []string{"auroc", "auprc", "threshold", "n_flagged"}, []string{"scores.csv", "roc.png"}},
		{"features", []string{"-knn-train", "500"}, []string{"knn_accuracy", "knn_pca_accuracy", "knn_raw_accuracy"},
			[]string{"features_test.npy", "features_test.csv", "features_train.npy", "latent.png"}},
		{"pca", nil, []string{"pca_mse", "pca_psnr", "mse", "psnr"}, []string{"pca.png"}},
		// Without -normal-class no class is normal for a model trained on
		// all of them: no AUROC, and the report says why.
		{"all", []string{"-knn-train", "500"}, []string{"mse", "ssim", "denoised_psnr", "threshold", "knn_accuracy", "pca_mse", "report"},
			[]string{"reconstructions.png", "denoising.png", "latent.png", "pca.png", "loss.png", "report.html"}},
		{"all", []string{"-knn-train", "500", "-normal-class", "1"}, []string{"auroc", "report"}, []string{"roc.png", "report.html"}},
	} {
		t.Run(tc.task, func(t *testing.T) {
			out := t.TempDir()
			s := runJSON(t, append([]string{"-checkpoint", ckpt, "-task", tc.task, "-limit", "200", "-out", out}, tc.extra...)...)
			assert.Equal(t, "deep", s["kind"])
			for _, k := range tc.keys {
				assert.Contains(t, s, k)
			}
			for _, f := range tc.files {
				assert.FileExists(t, filepath.Join(out, f))
			}
			if tc.task == "recon" {
				assert.InDelta(t, 24.5, s["compression_ratio"], 1e-9)
				assert.Less(t, s["mse"], 0.08)
			}
			if tc.task == "denoise" {
				assert.Greater(t, s["denoised_psnr"], s["noisy_psnr"])
			}
			if tc.task == "all" {
				_, auroc := s["auroc"]
				assert.Equal(t, slices.Contains(tc.extra, "-normal-class"), auroc, "AUROC only with a normal class")
				html, err := os.ReadFile(filepath.Join(out, "report.html"))
				require.NoError(t, err)
				assert.NotContains(t, string(html), out, "the report names no path of this machine")
				assert.NotContains(t, string(html), filepath.Dir(ckpt))
				assert.Equal(t, !auroc, strings.Contains(string(html), "Left out: no normal class was given"))
				assert.Contains(t, string(html), "<h2>Settings</h2>")
			}
		})
	}
}

func TestTextOutput(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCmd("-checkpoint", ckpt, "-task", "recon", "-limit", "50", "-out", out)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "compression_ratio")
	assert.Contains(t, stdout, filepath.Join(out, "reconstructions.png"))
}

func TestOneClass(t *testing.T) {
	s := runJSON(t, "-checkpoint", ckpt, "-task", "anomaly-oneclass", "-oneclass-epochs", "1", "-limit", "300", "-out", t.TempDir())
	assert.Len(t, s["per_class_auroc"], 10)
	assert.Len(t, s["pca_per_class_auroc"], 10)
	assert.Greater(t, s["mean_auroc"], 0.5)
	assert.Greater(t, s["pca_mean_auroc"], 0.6)
}

// writeCSV writes a table of n rows whose 8 features lie near a 2-d plane
// and, appended, outliers rows that do not; label 1 marks the outliers.
func writeCSV(t *testing.T, path string, n, outliers int, seed uint64) *dataset.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	const f = 8
	var a [f][2]float64
	for j := range f {
		a[j] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	var b strings.Builder
	for j := range f {
		fmt.Fprintf(&b, "x%d,", j)
	}
	b.WriteString("label\n")
	for i := range n + outliers {
		u, v := 2*rng.Float64()-1, 2*rng.Float64()-1
		for j := range f {
			x := a[j][0]*u + a[j][1]*v + 0.03*rng.NormFloat64()
			if i >= n {
				x = 2 * (2*rng.Float64() - 1) // off the plane, same range
			}
			fmt.Fprintf(&b, "%.5f,", x)
		}
		fmt.Fprintf(&b, "%d\n", min(i/n, 1))
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	d, err := dataset.LoadCSV(path, dataset.CSVOptions{LabelColumn: "label"})
	require.NoError(t, err)
	return d
}

// trainTable trains a deep model on the CSV with the train command, which
// stores the scaler, the threshold and its configuration in the checkpoint.
func trainTable(t *testing.T, csv, dir string) string {
	var o, e bytes.Buffer
	code := traincli.Run("train", []string{"-data", csv, "-latent", "2", "-epochs", "40", "-batch", "32", "-lr", "3e-3", "-seed", "1", "-out", dir}, &o, &e)
	require.Equal(t, 0, code, e.String())
	assert.Contains(t, e.String(), `labels: column "label" (2 values: 0×600, 1×20)`, "the label column is announced")
	return filepath.Join(dir, train.BestName)
}

func TestCSVOutliers(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "table.csv")
	const n, outliers = 600, 20
	writeCSV(t, csv, n, outliers, 3)
	// Train on the contaminated table, as one would on real data.
	ck := trainTable(t, csv, filepath.Join(dir, "run"))
	loaded, err := train.LoadCheckpoint(ck)
	require.NoError(t, err)
	stored, ok, err := loaded.Threshold()
	require.NoError(t, err)
	require.True(t, ok, "train stores a threshold")
	assert.Equal(t, 99.0, stored.Percentile)
	assert.Equal(t, 558, stored.N, "fitted on the training split: 620 rows less a tenth")

	out := filepath.Join(dir, "eval")
	s := runJSON(t, "-checkpoint", ck, "-data", csv, "-task", "anomaly", "-normal-class", "0", "-out", out)
	assert.Greater(t, s["auroc"], 0.95)
	assert.EqualValues(t, n+outliers, s["n"], "every row scored")
	assert.InDelta(t, stored.Value, s["threshold"], 1e-12, "the stored threshold is used")
	assert.Contains(t, s["threshold_from"], "stored in")

	// Binary ground truth gives the same figures as the class ids.
	s2 := runJSON(t, "-checkpoint", ck, "-data", csv, "-task", "anomaly", "-anomaly-label", "1", "-out", out)
	assert.Equal(t, s["auroc"], s2["auroc"])
	assert.Equal(t, s["auprc"], s2["auprc"])
	// The score histogram counts every row, normal rows and anomalies apart,
	// and the ROC and PR curves are drawn.
	hist := s2["score_histogram"].(map[string]any)
	assert.Equal(t, n+outliers, sumCounts(hist["counts"]))
	assert.Equal(t, n, sumCounts(hist["normal"]))
	assert.Equal(t, outliers, sumCounts(hist["anomalous"]))
	for _, f := range []string{"scores.png", "roc.png", "pr.png"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	// The per-feature summary: every column once, largest error first,
	// shares summing to one, and the mean of flagged rows above the mean
	// of all for the column that errs most.
	fe := s2["feature_errors"].([]any)
	require.Len(t, fe, 8)
	var share float64
	prev := math.Inf(1)
	for _, e := range fe {
		m := e.(map[string]any)
		assert.LessOrEqual(t, m["mse"].(float64), prev)
		prev = m["mse"].(float64)
		share += m["share"].(float64)
	}
	assert.InDelta(t, 1, share, 1e-9)
	top := fe[0].(map[string]any)
	assert.Greater(t, top["flagged_mse"], top["mse"])

	// The top-scored rows are the injected outliers, and each row names the
	// features whose errors weigh most.
	b, err := os.ReadFile(filepath.Join(out, "scores.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Equal(t, "index,label,recon_error,anomaly,top1_feature,top1_share,top2_feature,top2_share,top3_feature,top3_share", lines[0])
	type row struct {
		label int
		score float64
	}
	var rows []row
	for _, l := range lines[1:] {
		c := strings.Split(l, ",")
		require.Len(t, c, 10)
		lab, _ := strconv.Atoi(c[1])
		sc, _ := strconv.ParseFloat(c[2], 64)
		assert.Regexp(t, `^x[0-7]$`, c[4])
		s1, _ := strconv.ParseFloat(c[5], 64)
		s2, _ := strconv.ParseFloat(c[7], 64)
		s3, _ := strconv.ParseFloat(c[9], 64)
		assert.True(t, s1 >= s2 && s2 >= s3 && s1+s2+s3 <= 1.0001, "shares in order: %s", l)
		rows = append(rows, row{lab, sc})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].score > rows[j].score })
	hits := 0
	for _, r := range rows[:outliers] {
		hits += r.label
	}
	assert.GreaterOrEqual(t, hits, outliers*8/10, "outliers among the top %d scores", outliers)

	// A contamination rate flags about that share of the rows.
	s = runJSON(t, "-checkpoint", ck, "-data", csv, "-task", "anomaly", "-contamination", "0.05", "-out", out)
	assert.InDelta(t, 0.05, s["flagged_frac"], 0.01)

	// -task all skips the picture-only tasks on a table, fits kNN and PCA on
	// the training split the checkpoint remembers, and gives no AUROC when
	// nobody said what is normal.
	s = runJSON(t, "-checkpoint", ck, "-data", csv, "-task", "all", "-out", filepath.Join(dir, "all"))
	assert.Contains(t, s, "knn_accuracy")
	assert.Contains(t, s, "pca_mse")
	assert.NotContains(t, s, "denoised_psnr")
	assert.NotContains(t, s, "auroc")
	assert.EqualValues(t, 558, s["n_train"])
	assert.Equal(t, csv+" (training split)", s["fitted_on"])
	// A table's report has no pixel figures or pictures of rows, but the
	// anomaly figures with the stored threshold, the score histogram and
	// the per-feature errors.
	for _, k := range []string{"psnr", "bce", "ssim", "pca_psnr"} {
		assert.NotContains(t, s, k)
	}
	assert.Equal(t, n+outliers, sumCounts(s["score_histogram"].(map[string]any)["counts"]))
	page, err := os.ReadFile(filepath.Join(dir, "all", "report.html"))
	require.NoError(t, err)
	for _, w := range []string{"<td>Anomaly threshold</td>", "Features by their share of the reconstruction error",
		"<th>Mean squared error of flagged rows</th>", "rows right of the dashed threshold line are flagged"} {
		assert.Contains(t, string(page), w)
	}
	for _, w := range []string{"Peak signal", "Left out: no normal class", "Rows marked input"} {
		assert.NotContains(t, string(page), w)
	}
	firstFeature := s["feature_errors"].([]any)[0].(map[string]any)
	assert.Regexp(t, fmt.Sprintf(`<tr><td>%s</td><td>%.4g</td><td>%.1f%%</td>`, firstFeature["feature"], firstFeature["mse"], 100*firstFeature["share"].(float64)), string(page))

	// A new file scored with the saved model alone: no training data or
	// normal rows at hand, the stored threshold flags.
	moved := filepath.Join(t.TempDir(), "model.safetensors")
	raw, err := os.ReadFile(ck)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(moved, raw, 0o644))
	require.NoError(t, os.Remove(csv))
	fresh := filepath.Join(t.TempDir(), "new.csv")
	require.NoError(t, os.WriteFile(fresh, []byte("x0,x1,x2,x3,x4,x5,x6,x7\n0,0,0,0,0,0,0,0\n9,-9,9,-9,9,-9,9,-9\n"), 0o644))
	s = runJSON(t, "-checkpoint", moved, "-data", fresh, "-task", "anomaly", "-out", filepath.Join(dir, "new"))
	assert.EqualValues(t, 2, s["n"])
	assert.InDelta(t, stored.Value, s["threshold"], 1e-12)
	assert.EqualValues(t, 1, s["n_flagged"], "the far-off row is flagged")

	// Labelled figures on data without labels are an error, not a note.
	code, _, stderr := runCmd("-checkpoint", moved, "-data", fresh, "-task", "anomaly", "-normal-class", "0", "-out", filepath.Join(dir, "new"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "-normal-class 0 needs labels, but "+fresh+" has none")
	// Tasks fitted on training data say what is missing.
	code, _, stderr = runCmd("-checkpoint", moved, "-data", fresh, "-task", "pca", "-out", filepath.Join(dir, "new"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "give -train-data")
}

func TestAnomalyLabelThirdValue(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "table.csv")
	writeCSV(t, csv, 60, 5, 4)
	ck := trainTable4(t, csv, filepath.Join(dir, "run"))
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("x0,x1,x2,x3,x4,x5,x6,x7,label\n"+
		"0,0,0,0,0,0,0,0,0\n1,1,1,1,1,1,1,1,1\n2,2,2,2,2,2,2,2,2\n"), 0o644))
	code, _, stderr := runCmd("-checkpoint", ck, "-data", bad, "-task", "anomaly", "-anomaly-label", "1", "-out", filepath.Join(dir, "o"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "-anomaly-label 1: data row 3 of "+bad+" has label 2, but the labels should be 1 (anomaly) or 0 (normal")
}

// trainTable4 is a quick run of the train command (4 epochs).
func trainTable4(t *testing.T, csv, dir string) string {
	var o, e bytes.Buffer
	code := traincli.Run("train", []string{"-data", csv, "-epochs", "4", "-val-frac", "0", "-save-every", "0", "-out", dir}, &o, &e)
	require.Equal(t, 0, code, e.String())
	return filepath.Join(dir, train.BestName)
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("a,b,c\n1,2,3\n4,oops,6\n"), 0o644))
	table := filepath.Join(dir, "table.csv")
	require.NoError(t, os.WriteFile(table, []byte("a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n2,2,2\n"), 0o644))
	notCkpt := filepath.Join(dir, "x.safetensors")
	require.NoError(t, os.WriteFile(notCkpt, []byte("hello"), 0o644))

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no checkpoint flag", []string{"-task", "recon"}, []string{"-checkpoint is required"}},
		{"missing checkpoint", []string{"-checkpoint", filepath.Join(dir, "nope.safetensors")}, []string{"nope.safetensors"}},
		{"not a checkpoint", []string{"-checkpoint", notCkpt}, []string{"x.safetensors"}},
		{"unknown task", []string{"-checkpoint", ckpt, "-task", "dance"}, []string{"-task \"dance\"", "recon"}},
		{"percentile 150", []string{"-checkpoint", ckpt, "-task", "anomaly", "-percentile", "150"}, []string{"-percentile 150"}},
		{"cuda in a CPU build", []string{"-checkpoint", ckpt, "-device", "cuda"}, []string{"without CUDA support", "-tags cuda"}},
		{"misplaced -tags", []string{"-tags", "cuda", "-checkpoint", ckpt}, []string{"go run -tags cuda"}},
		{"bad contamination", []string{"-checkpoint", ckpt, "-task", "anomaly", "-contamination", "0.9"}, []string{"-contamination 0.9"}},
		{"empty csv", []string{"-checkpoint", ckpt, "-data", empty}, []string{"empty.csv", "empty"}},
		{"non-numeric cell", []string{"-checkpoint", ckpt, "-data", bad}, []string{"bad.csv", "line 3", "column 2", "oops"}},
		{"shape mismatch", []string{"-checkpoint", ckpt, "-data", table, "-task", "recon"}, []string{"[1 28 28]", "[1 1 3]", "table.csv"}},
		{"unknown normal class", []string{"-checkpoint", ckpt, "-task", "anomaly", "-normal-class", "42"}, []string{"-normal-class 42"}},
		{"bad noise", []string{"-checkpoint", ckpt, "-task", "denoise", "-noise", "pink"}, []string{"pink", "gaussian"}},
		{"stray argument", []string{"-checkpoint", ckpt, "extra"}, []string{"unexpected argument"}},
		{"unknown one-class score", []string{"-checkpoint", ckpt, "-task", "anomaly-oneclass", "-oneclass-score", "recon+mse"}, []string{"-oneclass-score \"recon+mse\"", "unknown part \"mse\""}},
		{"one-class elbo of a plain model", []string{"-checkpoint", ckpt, "-task", "anomaly-oneclass", "-oneclass-score", "elbo"}, []string{"-oneclass-score elbo", "part \"elbo\" does not apply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(append(tc.args, "-out", filepath.Join(dir, "out"), "-limit", "50")...)
			assert.NotEqual(t, 0, code)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
			assert.NotContains(t, stderr, "goroutine", "no stack trace")
		})
	}
}

// TestCancelledStopsBetweenTasks: a signal (a cancelled context) stops eval
// before its next task, so nothing more is written.
func TestCancelledStopsBetweenTasks(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	o, err := parseFlags("eval", []string{"-checkpoint", ckpt, "-task", "all", "-out", out}, &stdout)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = evaluate(ctx, o, io.Discard)
	require.ErrorIs(t, err, context.Canceled)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	assert.Empty(t, entries, "no task ran")
}

func TestSampleOnAPlainAutoencoderDrawsFromTheMixture(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sample")
	s := runJSON(t, "-checkpoint", ckpt, "-task", "sample", "-out", out, "-limit", "50")
	assert.Equal(t, 10.0, s["gmm_components"])
	assert.Greater(t, s["gmm_test_loglik"].(float64), s["prior_test_loglik"].(float64))
	assert.FileExists(t, filepath.Join(out, "samples.png"))
}

// sumCounts adds the counts of a histogram read back from JSON.
func sumCounts(v any) int {
	total := 0
	for _, c := range v.([]any) {
		total += int(c.(float64))
	}
	return total
}

// TestImpute trains with -impute median on a table with missing cells and
// checks that eval and the Go API fill a new row's missing value with the
// stored training median, as training did.
func TestImpute(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "table.csv")
	d := writeCSV(t, csv, 60, 0, 5)
	raw, err := os.ReadFile(csv)
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	// Data row 2 loses x3, data row 5 x0.
	for _, e := range []struct{ line, col int }{{2, 3}, {5, 0}} {
		cells := strings.Split(lines[e.line], ",")
		cells[e.col] = map[int]string{3: "", 0: "NA"}[e.col]
		lines[e.line] = strings.Join(cells, ",")
	}
	require.NoError(t, os.WriteFile(csv, []byte(strings.Join(lines, "\n")), 0o644))
	var present []float64
	for i := range d.N {
		if i != 1 {
			present = append(present, float64(d.X[i*d.W+3]))
		}
	}
	sort.Float64s(present)
	median := (present[len(present)/2-1] + present[len(present)/2]) / 2 // 59 values: the middle one
	if len(present)%2 == 1 {
		median = present[len(present)/2]
	}

	var o, e bytes.Buffer
	args := []string{"-data", csv, "-epochs", "4", "-val-frac", "0", "-out", filepath.Join(dir, "plain")}
	require.Equal(t, 1, traincli.Run("train", args, &o, &e))
	assert.Contains(t, e.String(), `line 3, column 4 ("x3"): missing value ""; remove the row, fill the value in, or pass -impute mean, median or zero`)
	e.Reset()
	require.Equal(t, 2, traincli.Run("train", append(args, "-impute", "mode"), &o, &e))
	assert.Contains(t, e.String(), `-impute "mode": valid: mean, median, zero`)
	e.Reset()
	require.Equal(t, 2, traincli.Run("train", []string{"-data", csv, "-stream", "-impute", "median", "-out", filepath.Join(dir, "s")}, &o, &e))
	assert.Contains(t, e.String(), "-impute median applies to data loaded whole")

	e.Reset()
	run := filepath.Join(dir, "run")
	require.Equal(t, 0, traincli.Run("train", []string{"-data", csv, "-epochs", "4", "-val-frac", "0", "-impute", "median", "-out", run}, &o, &e), e.String())
	assert.Contains(t, e.String(), "impute: 2 missing values filled with their column's training median (fitted on 60 rows)")
	ck := filepath.Join(run, train.BestName)
	loaded, err := train.LoadCheckpoint(ck)
	require.NoError(t, err)
	im, err := loaded.Imputer()
	require.NoError(t, err)
	require.NotNil(t, im)
	assert.Equal(t, "median", im.Kind)
	assert.InDelta(t, median, im.Fill[3], 1e-4)

	// Eval reads the missing cells and fills them: every row is scored.
	s := runJSON(t, "-checkpoint", ck, "-data", csv, "-task", "anomaly", "-out", filepath.Join(dir, "eval"))
	assert.EqualValues(t, 60, s["n"])

	// A row with x3 missing scores exactly as the same row with the stored
	// median written in, from the CLI and from the Go API.
	row := []float32{0.1, -0.2, 0.3, 0, 0.5, -0.1, 0.2, 0}
	cells := func(x3 string) string {
		return fmt.Sprintf("%g,%g,%g,%s,%g,%g,%g,%g", row[0], row[1], row[2], x3, row[4], row[5], row[6], row[7])
	}
	fresh := filepath.Join(dir, "new.csv")
	require.NoError(t, os.WriteFile(fresh, []byte("x0,x1,x2,x3,x4,x5,x6,x7\n"+cells("?")+"\n"+cells(strconv.FormatFloat(float64(im.Fill[3]), 'g', -1, 32))+"\n"), 0o644))
	code, stdout, stderr := runCmd("-checkpoint", ck, "-data", fresh, "-task", "anomaly", "-out", filepath.Join(dir, "new"), "-json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "eval: 1 missing values of "+fresh+" filled with their column's training median")
	assert.Contains(t, stdout, `"n":2`)
	scores, err := os.ReadFile(filepath.Join(dir, "new", "scores.csv"))
	require.NoError(t, err)
	sl := strings.Split(strings.TrimSpace(string(scores)), "\n")
	require.Len(t, sl, 3)
	assert.Equal(t, strings.Split(sl[1], ",")[1], strings.Split(sl[2], ",")[1], "same score with the value missing and filled in")

	m, err := hourglass.Load(ck)
	require.NoError(t, err)
	defer m.Close()
	withNaN := slices.Clone(row)
	withNaN[3] = float32(math.NaN())
	filled := slices.Clone(row)
	filled[3] = im.Fill[3]
	got, err := m.Score(append(withNaN, filled...))
	require.NoError(t, err)
	assert.Equal(t, got[0], got[1])
	cliScore, err := strconv.ParseFloat(strings.Split(sl[1], ",")[1], 64)
	require.NoError(t, err)
	assert.InEpsilon(t, cliScore, got[0], 1e-5, "the Go API scores as eval does")

	// A model trained without -impute still refuses missing values.
	complete := filepath.Join(dir, "complete.csv")
	writeCSV(t, complete, 60, 0, 6)
	plain := trainTable4(t, complete, filepath.Join(dir, "plain2"))
	code, _, stderr = runCmd("-checkpoint", plain, "-data", fresh, "-task", "anomaly", "-out", filepath.Join(dir, "new2"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `line 2, column 4 ("x3"): missing value "?"`)
	pm, err := hourglass.Load(plain)
	require.NoError(t, err)
	defer pm.Close()
	_, err = pm.Score(withNaN)
	assert.ErrorContains(t, err, "input sample 0, value 3: NaN is not a finite number (NaN for a missing value needs a model trained with -impute)")
}

// TestTableTrainedOnAllRows: a model trained with -val-frac 0 on normal
// rows only; eval names what it fitted on without claiming a split, and
// -task all leaves out kNN accuracy, which one class cannot measure.
func TestTableTrainedOnAllRows(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "normal.csv")
	writeCSV(t, csv, 80, 0, 8)
	ck := trainTable4(t, csv, filepath.Join(dir, "run"))
	test := filepath.Join(dir, "test.csv")
	writeCSV(t, test, 30, 6, 8)
	s := runJSON(t, "-checkpoint", ck, "-data", test, "-task", "all", "-anomaly-label", "1", "-out", filepath.Join(dir, "all"))
	assert.Equal(t, csv+" (all rows: trained with -val-frac 0)", s["fitted_on"])
	assert.EqualValues(t, 80, s["n_train"])
	assert.EqualValues(t, 36, s["n"])
	assert.Equal(t, test, s["data"])
	assert.Contains(t, s, "pca_mse")
	assert.Contains(t, s, "auroc")
	assert.NotContains(t, s, "knn_accuracy")
	code, stdout, stderr := runCmd("-checkpoint", ck, "-data", test, "-task", "pca", "-out", filepath.Join(dir, "pca"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "pca on "+test+", n=36 (fitted on "+csv+" (all rows: trained with -val-frac 0), n=80)")
}

// TestOneClassTable trains each class's model from scratch on a training
// file and scores a separate test file, with the epochs and batch sized
// from each class's rows as train sizes a table.
func TestOneClassTable(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeCSV(t, trainCSV, 100, 40, 9)
	writeCSV(t, testCSV, 40, 20, 9)
	ck := trainTable4(t, trainCSV, filepath.Join(dir, "run"))
	s := runJSON(t, "-checkpoint", ck, "-data", testCSV, "-train-data", trainCSV, "-task", "anomaly-oneclass", "-out", filepath.Join(dir, "oc"))
	assert.EqualValues(t, 60, s["n"], "every row of the test file")
	assert.EqualValues(t, 140, s["n_train"])
	assert.Equal(t, trainCSV, s["fitted_on"])
	// Class 0: 90 rows after the validation tenth, batches of 11, 9 steps an
	// epoch: 223 epochs; class 1: 36 rows, batches of 8, 5 steps: 400.
	assert.Equal(t, []any{223.0, 400.0}, s["oneclass_epochs_per_class"])
	per := s["per_class_auroc"].([]any)
	assert.Greater(t, per[0], 0.9, "the model of the plane's rows tells the off-plane rows apart")
}
