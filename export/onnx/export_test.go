package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/checkpoint"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// tolerance is the largest difference allowed between ONNX Runtime's
// outputs and hourglass's own.
const tolerance = 1e-5

// exportCase is a small model of one kind, with the scaler (if any) fitted
// on its inputs.
type exportCase struct {
	name   string
	spec   models.Spec
	scaler string // "", minmax or standard
}

func exportCases(t *testing.T) []exportCase {
	t.Helper()
	mk := func(kind string, shape []int, latent int, edit func(*models.Spec)) models.Spec {
		s, err := models.DefaultSpec(kind, shape, latent)
		require.NoError(t, err)
		s.InitSeed = 7
		if edit != nil {
			edit(&s)
		}
		require.NoError(t, s.Validate())
		return s
	}
	dense := []int{1, 4, 5}
	return []exportCase{
		{"basic", mk("basic", dense, 4, nil), ""},
		{"deep-tanh-standard", mk("deep", dense, 3, func(s *models.Spec) {
			s.Hidden, s.Activation, s.Output = []int{8, 6}, "tanh", "identity"
		}), "standard"},
		{"denoising-minmax", mk("denoising", dense, 3, func(s *models.Spec) { s.Hidden = []int{8} }), "minmax"},
		{"sparse-l1", mk("sparse", dense, 4, func(s *models.Spec) { s.Hidden = []int{8} }), ""},
		{"sparse-kl-minmax", mk("sparse", dense, 4, func(s *models.Spec) {
			s.Hidden, s.Sparsity = []int{8}, &models.SparsitySpec{Rho: 0.1, Beta: 1}
		}), "minmax"},
		// 6×5 → 3×3 → 2×2 and back: upsampling by uneven factors.
		{"conv-minmax", mk("conv", []int{2, 6, 5}, 3, func(s *models.Spec) { s.Channels = []int{3, 4} }), "minmax"},
		{"vae", mk("vae", dense, 3, func(s *models.Spec) { s.Hidden = []int{8} }), ""},
		// 7×6 → 4×3 → 2×2 and back.
		{"convvae-standard", mk("convvae", []int{1, 7, 6}, 3, func(s *models.Spec) { s.Channels = []int{3, 2} }), "standard"},
	}
}

// defaultCases are every kind at its default size for 28×28 images, as
// hourglass train builds them for MNIST: wide layers sum many more products.
func defaultCases(t *testing.T) []exportCase {
	t.Helper()
	var cs []exportCase
	for _, kind := range models.Kinds() {
		s, err := models.DefaultSpec(kind, []int{1, 28, 28}, 0)
		require.NoError(t, err)
		s.InitSeed = 9
		cs = append(cs, exportCase{name: kind + "-28x28", spec: s})
	}
	cs[1].scaler = "standard"
	return cs
}

// newModel builds the case's model and moves every parameter off its
// initial value, so that biases (zero at initialisation) are checked too.
func (c exportCase) newModel(t *testing.T) models.Model {
	t.Helper()
	m, err := models.New(c.spec)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range m.Params().List() {
		// A move of 0.2/√fan-in keeps wide layers' activations in range.
		std := 0.2 / math.Sqrt(float64(p.Size()/p.Shape[len(p.Shape)-1]))
		if len(p.Shape) == 1 {
			std = 0.2
		}
		for i, v := range p.Data() {
			p.Data()[i] = v + float32(std*rng.NormFloat64())
		}
	}
	return m
}

// data is n raw rows for the case and its scaler fitted on them.
func (c exportCase) data(t *testing.T, n int) ([]float32, *dataset.Scaler) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	s := c.spec.InputShape
	x := make([]float32, n*c.spec.InputDim())
	for i := range x {
		x[i] = rng.Float32()
		if c.scaler != "" {
			x[i] = 1 + 2*x[i] // data units that the scaler must undo
		}
	}
	if c.scaler == "" {
		return x, nil
	}
	sc, err := dataset.FitScaler(c.scaler, &dataset.Dataset{Name: c.name, X: x, N: n, C: s[0], H: s[1], W: s[2]})
	require.NoError(t, err)
	return x, sc
}

func TestOutputsPerKindAndPart(t *testing.T) {
	for _, c := range exportCases(t) {
		m := c.newModel(t)
		_, sc := c.data(t, 4)
		variational := c.spec.Kind == "vae" || c.spec.Kind == "convvae"
		for _, part := range Parts() {
			t.Run(c.name+"/"+string(part), func(t *testing.T) {
				mp, err := build(m, sc, Options{Part: part})
				require.NoError(t, err)
				var want []string
				switch part {
				case PartFull:
					want = []string{"reconstruction", "code"}
					if variational {
						want = append(want, "logvar")
					}
					want = append(want, "score")
					if sc != nil {
						want = append(want, "reconstruction_raw")
					}
				case PartEncoder:
					want = []string{"code"}
					if variational {
						want = append(want, "logvar")
					}
				case PartDecoder:
					want = []string{"reconstruction"}
					if sc != nil {
						want = append(want, "reconstruction_raw")
					}
				}
				require.Equal(t, want, names(mp.graph.output))
				wantIn := "input"
				if part == PartDecoder {
					wantIn = "code"
				}
				require.Equal(t, []string{wantIn}, names(mp.graph.inputs))
				requireWellFormed(t, &mp.graph)
				require.Equal(t, fmt.Sprintf("hourglass_%s_%s", c.spec.Kind, part), mp.graph.name)
			})
		}
	}
}

func names(vs []valueInfo) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.name)
	}
	return out
}

// requireWellFormed checks that every node reads only values defined
// before it and that no value has two producers.
func requireWellFormed(t *testing.T, g *graphProto) {
	t.Helper()
	defined := map[string]bool{}
	for _, v := range g.inputs {
		defined[v.name] = true
	}
	for _, in := range g.initializers {
		require.False(t, defined[in.name], "initializer %s defined twice", in.name)
		defined[in.name] = true
	}
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			require.True(t, defined[in], "node %s reads %s before it is defined", n.name, in)
		}
		for _, out := range n.outputs {
			require.False(t, defined[out], "value %s has two producers", out)
			defined[out] = true
		}
	}
	for _, o := range g.output {
		require.True(t, defined[o.name], "output %s is never produced", o.name)
	}
}

func TestWriteRejectsBadInput(t *testing.T) {
	spec, err := models.DefaultSpec("basic", []int{1, 2, 2}, 2)
	require.NoError(t, err)
	m, err := models.New(spec)
	require.NoError(t, err)
	tests := []struct {
		name string
		m    models.Model
		sc   *dataset.Scaler
		opts Options
		want string
	}{
		{"no model", nil, nil, Options{}, "no model given"},
		{"unknown part", m, nil, Options{Part: "middle"}, `unknown part "middle"`},
		{"scaler of another width", m, &dataset.Scaler{Kind: "minmax", A: []float32{0}, B: []float32{1}}, Options{}, "scaler minmax has 1 features but the basic model takes 4"},
		{"invalid scaler", m, &dataset.Scaler{Kind: "minmax", A: []float32{0, 0, 0, 0}, B: []float32{1, 0, 1, 1}}, Options{}, "feature 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.m, tc.sc, tc.opts)
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, buf.Len())
		})
	}
}

// A scaler of kind none is the identity and adds nothing to the graph.
func TestNoneScalerIsNoScaler(t *testing.T) {
	c := exportCases(t)[0]
	m := c.newModel(t)
	var plain, none bytes.Buffer
	require.NoError(t, Write(&plain, m, nil, Options{}))
	require.NoError(t, Write(&none, m, &dataset.Scaler{Kind: "none"}, Options{}))
	require.Equal(t, plain.Bytes(), none.Bytes())
}

// ExportFile reads the model and the scaler that hourglass train stored in a
// checkpoint and writes what Write writes for them.
func TestExportFileUsesTheCheckpointsScaler(t *testing.T) {
	c := exportCases(t)[5] // conv with a minmax scaler
	m := c.newModel(t)
	_, sc := c.data(t, 6)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	require.NoError(t, train.SaveCheckpoint(ckpt, m, nil, train.State{}))
	f, err := checkpoint.Load(ckpt)
	require.NoError(t, err)
	js, err := json.Marshal(sc)
	require.NoError(t, err)
	f.Metadata[train.MetaScaler] = string(js) // as hourglass train stores it
	require.NoError(t, checkpoint.Save(ckpt, f))

	for _, part := range Parts() {
		out := filepath.Join(dir, string(part)+".onnx")
		require.NoError(t, ExportFile(ckpt, out, Options{Part: part}))
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		var want bytes.Buffer
		require.NoError(t, Write(&want, m, sc, Options{Part: part}))
		require.Equal(t, want.Bytes(), got, "part %s", part)
	}
	require.ErrorContains(t, ExportFile(filepath.Join(dir, "missing.safetensors"), filepath.Join(dir, "x.onnx"), Options{}), "missing.safetensors")
	require.ErrorContains(t, ExportFile(ckpt, filepath.Join(dir, "no", "such", "dir.onnx"), Options{}), "does its directory exist")
}

// engine finds node with onnxruntime-node and a python3 with the onnx
// package. Without them the test skips, except on CI (CI set), where
// .ci/run installs them and their absence is a failure.
func engine(t *testing.T) (node, python, ortDir string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (.ci/run installs it on CI)", msg)
		}
		t.Skipf("%s; skipping the ONNX Runtime check", msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed (Node 20 runs ONNX Runtime here)")
	}
	ortDir, err = filepath.Abs(filepath.Join("testdata", "ort"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(ortDir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing("onnxruntime-node is not installed: run `npm ci --prefix export/onnx/testdata/ort`")
	}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import onnx").Run() == nil {
			return node, p, ortDir
		}
	}
	missing("no python3 with the onnx package: apt-get install python3-onnx")
	return "", "", ""
}

// tensorJSON is a tensor as run.js reads and writes it.
type tensorJSON struct {
	Dims []int     `json:"dims"`
	Data []float64 `json:"data"`
}

type job struct {
	Model string                `json:"model"`
	Feeds map[string]tensorJSON `json:"feeds"`
	// want is hourglass's own result for each output.
	want map[string]tensorJSON
	name string
}

func tensorOf(data []float32, dims ...int) tensorJSON {
	out := make([]float64, len(data))
	for i, v := range data {
		out[i] = float64(v)
	}
	return tensorJSON{Dims: dims, Data: out}
}

// hourglassJobs exports c's model as each part and computes what hourglass
// itself gives on the same inputs.
func hourglassJobs(t *testing.T, c exportCase, dir string) []job {
	t.Helper()
	const n = 8
	m := c.newModel(t)
	raw, sc := c.data(t, n)
	dim, k := c.spec.InputDim(), c.spec.Latent
	x := slices.Clone(raw)
	if sc != nil {
		require.NoError(t, sc.ApplySlice(x))
	}
	recon, err := models.Reconstruct(m, x, n)
	require.NoError(t, err)
	code, err := models.Encode(m, x, n)
	require.NoError(t, err)
	scores, err := eval.SampleMSE(x, recon, dim)
	require.NoError(t, err)
	score := make([]float32, n)
	for i, s := range scores {
		score[i] = float32(s)
	}
	z := make([]float32, n*k)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	decoded, err := models.Decode(m, z, n)
	require.NoError(t, err)

	full := map[string]tensorJSON{"reconstruction": tensorOf(recon, n, dim), "code": tensorOf(code, n, k), "score": tensorOf(score, n)}
	enc := map[string]tensorJSON{"code": tensorOf(code, n, k)}
	dec := map[string]tensorJSON{"reconstruction": tensorOf(decoded, n, dim)}
	if c.spec.Kind == "vae" || c.spec.Kind == "convvae" {
		_, logvar, err := models.Posterior(m, x, n)
		require.NoError(t, err)
		full["logvar"], enc["logvar"] = tensorOf(logvar, n, k), tensorOf(logvar, n, k)
	}
	if sc != nil {
		r, d := slices.Clone(recon), slices.Clone(decoded)
		require.NoError(t, sc.InvertSlice(r))
		require.NoError(t, sc.InvertSlice(d))
		full["reconstruction_raw"], dec["reconstruction_raw"] = tensorOf(r, n, dim), tensorOf(d, n, dim)
	}
	var jobs []job
	for _, p := range []struct {
		part  Part
		feeds map[string]tensorJSON
		want  map[string]tensorJSON
	}{
		{PartFull, map[string]tensorJSON{"input": tensorOf(raw, n, dim)}, full},
		{PartEncoder, map[string]tensorJSON{"input": tensorOf(raw, n, dim)}, enc},
		{PartDecoder, map[string]tensorJSON{"code": tensorOf(z, n, k)}, dec},
	} {
		path := filepath.Join(dir, c.name+"-"+string(p.part)+".onnx")
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, m, sc, Options{Part: p.part}))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		jobs = append(jobs, job{Model: path, Feeds: p.feeds, want: p.want, name: c.name + "/" + string(p.part)})
	}
	return jobs
}

// TestONNXRuntimeMatchesHourglass exports every kind as each part, checks
// the files with onnx's checker and runs them in ONNX Runtime: every output
// must be within tolerance of hourglass's own.
func TestONNXRuntimeMatchesHourglass(t *testing.T) {
	node, python, ortDir := engine(t)
	dir := t.TempDir()
	var jobs []job
	cases := append(exportCases(t), defaultCases(t)...)
	for _, c := range cases {
		jobs = append(jobs, hourglassJobs(t, c, dir)...)
	}
	var files []string
	for _, j := range jobs {
		files = append(files, j.Model)
	}

	// The checker: valid IR 8 / opset 13 models whose inferred output
	// shapes are hourglass's.
	out, err := exec.Command(python, append([]string{filepath.Join("testdata", "check.py")}, files...)...).CombinedOutput()
	require.NoError(t, err, "onnx checker: %s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(jobs))
	for i, line := range lines {
		var rep struct {
			IRVersion int              `json:"ir_version"`
			Opset     []int            `json:"opset"`
			Outputs   map[string][]any `json:"outputs"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rep), line)
		require.Equal(t, irVersion, rep.IRVersion, jobs[i].name)
		require.Equal(t, []int{opsetVersion}, rep.Opset, jobs[i].name)
		require.Len(t, rep.Outputs, len(jobs[i].want), jobs[i].name)
		for name, want := range jobs[i].want {
			wantDims := []any{batchDim}
			for _, d := range want.Dims[1:] {
				wantDims = append(wantDims, float64(d))
			}
			require.Equal(t, wantDims, rep.Outputs[name], "%s %s", jobs[i].name, name)
		}
	}

	// ONNX Runtime.
	spec, err := json.Marshal(jobs)
	require.NoError(t, err)
	jobsPath := filepath.Join(dir, "jobs.json")
	require.NoError(t, os.WriteFile(jobsPath, spec, 0o644))
	cmd := exec.Command(node, filepath.Join(ortDir, "run.js"), jobsPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	require.NoError(t, err, "onnxruntime-node: %s", stderr.String())
	var got []map[string]tensorJSON
	require.NoError(t, json.Unmarshal(res, &got))
	require.Len(t, got, len(jobs))
	type diff struct {
		d      float64
		output string
	}
	worst := map[string]diff{}
	for i, j := range jobs {
		require.Len(t, got[i], len(j.want), j.name)
		for name, want := range j.want {
			g, ok := got[i][name]
			require.True(t, ok, "%s: no output %s", j.name, name)
			require.Equal(t, want.Dims, g.Dims, "%s %s", j.name, name)
			d := maxAbsDiff(want.Data, g.Data)
			require.LessOrEqual(t, d, tolerance, "%s %s: ONNX Runtime differs from hourglass by %g", j.name, name, d)
			kind := strings.SplitN(j.name, "/", 2)[0]
			if d >= worst[kind].d {
				worst[kind] = diff{d, strings.SplitN(j.name, "/", 2)[1] + " " + name}
			}
		}
	}
	for _, c := range cases {
		w := worst[c.name]
		t.Logf("%-20s max |onnxruntime − hourglass| = %.3g (%s)", c.name, w.d, w.output)
	}
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// Off CI, a machine without the engine skips the check and says why.
func TestEngineMissingSkipsOffCI(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("PATH", t.TempDir()) // no node
	var skipped bool
	t.Run("check", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		engine(t)
	})
	require.True(t, skipped)
}

// A checkpoint trained with -impute exports its fill values as metadata,
// since the graph itself takes complete rows.
func TestExportFileCarriesTheImputer(t *testing.T) {
	c := exportCases(t)[0] // basic, no scaler
	m := c.newModel(t)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	const imputer = `{"kind":"median","fill":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]}`
	require.NoError(t, train.SaveModel(ckpt, m, map[string]string{train.MetaImputer: imputer}))
	out := filepath.Join(dir, "m.onnx")
	require.NoError(t, ExportFile(ckpt, out, Options{}))
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(got), "hourglass.imputer")
	require.Contains(t, string(got), imputer)
	require.Contains(t, string(got), "Missing values are not filled by the graph")
}
