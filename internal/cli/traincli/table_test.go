package traincli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/train"
)

// tableCSV writes n rows of 6 features on two latent factors (centred on
// 5, so some scaled values are negative under standard scaling) with a
// label column placed first, sep-separated and optionally BOM-prefixed.
func tableCSV(t *testing.T, dir, name string, n int, sep string, bom bool) string {
	t.Helper()
	var b strings.Builder
	if bom {
		b.WriteString("\ufeff")
	}
	b.WriteString(strings.Join([]string{"label", "a", "b", "c", "d", "e", "f"}, sep) + "\n")
	for i := range n {
		u, v := math.Sin(float64(i)), math.Cos(float64(3*i))
		row := []string{fmt.Sprint(i % 2)}
		for j := range 6 {
			row = append(row, fmt.Sprintf("%.4f", 5+u*float64(j-2)+v*float64(j%3)))
		}
		b.WriteString(strings.Join(row, sep) + "\n")
	}
	return writeFile(t, dir, name, b.String())
}

func trainJSON(t *testing.T, args ...string) (map[string]any, string) {
	t.Helper()
	code, stdout, stderr := runCmd(append(args, "-json")...)
	require.Equal(t, 0, code, stderr)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &s), stdout)
	return s, stderr
}

func TestTableRun(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		sep      string
		bom      bool
		args     []string
		network  string
		output   string
		scale    string
		lossKind string
	}{
		{"comma, default shape", ",", false, nil, "6-30-16-2", "sigmoid", "minmax", "mse"},
		{"semicolon with BOM, hidden flag", ";", true, []string{"-hidden", "5", "-latent", "3"}, "6-5-3", "sigmoid", "minmax", "mse"},
		{"tab, standard gives linear", "\t", false, []string{"-scale", "standard"}, "6-30-16-2", "linear", "standard", "mse"},
		{"robust, vae", ",", false, []string{"-scale", "robust", "-model", "vae"}, "6-30-2", "linear", "robust", "mse"},
		{"forced sigmoid", ",", false, []string{"-scale", "standard", "-output", "sigmoid"}, "6-30-16-2", "sigmoid", "standard", "mse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csv := tableCSV(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".csv", 120, tc.sep, tc.bom)
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			s, stderr := trainJSON(t, append([]string{"-data", csv, "-epochs", "3", "-batch", "16", "-val-frac", "0", "-save-every", "0", "-out", out}, tc.args...)...)
			assert.Contains(t, stderr, `labels: column "label" (2 values: 0×60, 1×60)`)
			assert.Equal(t, tc.network, s["network"])
			assert.Equal(t, tc.output, s["output"])
			assert.Equal(t, tc.scale, s["scale"])
			assert.NotContains(t, s, "test_psnr", "no PSNR for table rows")
			assert.NotContains(t, s, "reconstructions", "no picture for table rows")
			assert.EqualValues(t, 120, s["train_n"], "-val-frac 0 trains on every row")
			assert.EqualValues(t, 3, s["best_epoch"], "without validation the best epoch is the last")
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			assert.ElementsMatch(t, []string{".lock", "run-id", "best.safetensors", "last.safetensors", "config.yaml", "metrics.csv", "metrics.jsonl", "loss.png"}, names, "-save-every 0: only last and best")

			l, err := train.LoadCheckpoint(filepath.Join(out, train.BestName))
			require.NoError(t, err)
			spec := l.Model.Spec()
			assert.Equal(t, tc.lossKind, spec.Loss)
			thr, ok, err := l.Threshold()
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, 120, thr.N)
			assert.Equal(t, 99.0, thr.Percentile)
			th := s["threshold"].(map[string]any)
			assert.InDelta(t, thr.Value, th["value"], 1e-12, "summary and checkpoint agree")
			sc, err := l.Scaler()
			require.NoError(t, err)
			assert.Equal(t, tc.scale, sc.Kind)
		})
	}
}

func TestTableThresholdContamination(t *testing.T) {
	dir := t.TempDir()
	csv := tableCSV(t, dir, "t.csv", 200, ",", false)
	s, _ := trainJSON(t, "-data", csv, "-epochs", "2", "-batch", "32", "-contamination", "0.1", "-clip", "3", "-out", filepath.Join(dir, "run"))
	th := s["threshold"].(map[string]any)
	assert.Equal(t, 0.1, th["contamination"])
	assert.EqualValues(t, 180, th["n"], "fitted on the training split")
	l, err := train.LoadCheckpoint(filepath.Join(dir, "run", train.LastName))
	require.NoError(t, err)
	sc, err := l.Scaler()
	require.NoError(t, err)
	assert.Equal(t, float32(3), sc.Clip)
}

func TestTableErrors(t *testing.T) {
	dir := t.TempDir()
	csv := tableCSV(t, dir, "t.csv", 40, ",", false)
	missing := writeFile(t, dir, "missing.csv", "a,b\n1,2\n3,\n")
	semis := writeFile(t, dir, "semi.csv", "a;b\n1;2\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"latent not below width", []string{"-data", csv, "-latent", "6"}, "-latent 6 is not smaller than the input's 6 values"},
		{"overcomplete sparse hint", []string{"-data", csv, "-model", "sparse", "-latent", "8"}, "pass -overcomplete"},
		{"overcomplete on deep", []string{"-data", csv, "-overcomplete"}, "-overcomplete applies only to -model denoising or sparse"},
		{"hidden on conv", []string{"-model", "conv", "-hidden", "8"}, "-hidden applies only to -model deep or denoising or sparse or vae"},
		{"bad hidden", []string{"-hidden", "8,x"}, `-hidden "8,x"`},
		{"bad output", []string{"-output", "tanh"}, `-output "tanh": valid: auto, sigmoid, linear`},
		{"bce with linear", []string{"-data", csv, "-scale", "standard", "-recon-loss", "bce"}, "-recon-loss bce needs -output sigmoid"},
		{"missing value", []string{"-data", missing}, `missing.csv: line 3, column 2 ("b"): missing value ""`},
		{"wrong delimiter", []string{"-data", semis, "-delimiter", ","}, `cannot parse "1;2" as a number (the file may be separated by ';': pass -delimiter)`},
		{"bad delimiter", []string{"-delimiter", "ab"}, `-delimiter "ab"`},
		{"label column absent", []string{"-data", csv, "-label-column", "y"}, `label column "y" not in header`},
		{"label column on images", []string{"-label-column", "y"}, "-label-column \"y\" applies to .csv sources"},
		{"early stop without validation", []string{"-val-frac", "0", "-early-stop", "3"}, "-early-stop 3 needs validation data"},
		{"negative save-every", []string{"-save-every", "-1"}, "-save-every -1"},
		{"bad scale", []string{"-scale", "zscore"}, `-scale "zscore": valid: auto, minmax, standard, robust, global, none`},
		{"bad threshold percentile", []string{"-threshold-percentile", "101"}, "-threshold-percentile 101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "run-"+strings.ReplaceAll(tc.name, " ", "-"))
			code, _, stderr := runCmd(append(tc.args, "-out", out, "-epochs", "1")...)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
			assert.NoDirExists(t, out, "a failed start leaves nothing behind")
		})
	}
}

func TestTableDefaults(t *testing.T) {
	for _, tc := range []struct {
		n       int
		args    []string
		batch   int
		epochs  int
		every   int
		changed bool
	}{
		{45, nil, 8, 334, 0, true},
		{1000, nil, 64, 125, 0, true},
		{20000, nil, 64, 20, 0, true},
		{5, nil, 5, 500, 0, true},
		{1000, []string{"-batch", "10"}, 10, 20, 0, true},
		{1000, []string{"-epochs", "7"}, 64, 7, 1, true},
		{1000, []string{"-epochs", "7", "-batch", "100"}, 100, 7, 1, false},
		{1000, []string{"-save-every", "5"}, 64, 125, 5, true},
	} {
		o, err := parseFlags("train", tc.args, io.Discard)
		require.NoError(t, err)
		note := o.tableDefaults(tc.n)
		assert.Equal(t, [3]int{tc.batch, tc.epochs, tc.every}, [3]int{o.batch, o.epochs, o.saveEvery}, "%d rows %v", tc.n, tc.args)
		assert.Equal(t, tc.changed, note != "", note)
		assert.Equal(t, strconv.Itoa(tc.epochs), o.fs.Lookup("epochs").Value.String(), "config.yaml records the value used")
	}
}

// TestTableGoAPI: a model trained by the command flags new rows through
// the Go API with the threshold the command stored, no normal data needed.
func TestTableGoAPI(t *testing.T) {
	dir := t.TempDir()
	csv := tableCSV(t, dir, "t.csv", 200, ",", false)
	out := filepath.Join(dir, "run")
	s, _ := trainJSON(t, "-data", csv, "-epochs", "30", "-batch", "16", "-val-frac", "0", "-out", out)
	m, err := hourglass.Load(filepath.Join(out, train.BestName))
	require.NoError(t, err)
	defer m.Close()
	thr, ok := m.Threshold()
	require.True(t, ok)
	assert.InDelta(t, s["threshold"].(map[string]any)["value"], thr.Value, 1e-12)
	ordinary := []float32{5, 5, 5, 5, 5, 5} // u = v = 0: the centre of the training rows
	far := []float32{50, -40, 50, -40, 50, -40}
	flags, err := m.Predict(append(ordinary, far...))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true}, flags)
}
