package apps

import (
	"context"
	"errors"
	"html/template"
	"image/png"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// fixture is a deep model trained for one epoch on a slice of the sample,
// shared by the tests (training is the slow part).
var fixture = sync.OnceValues(func() (*fixtureT, error) {
	s, err := dataset.Load("sample")
	if err != nil {
		return nil, err
	}
	f := &fixtureT{train: s.Train.Head(1000), test: s.Test.Head(200)}
	spec, err := models.DefaultSpec("deep", []int{1, 28, 28}, 0)
	if err != nil {
		return nil, err
	}
	if f.model, err = models.New(spec); err != nil {
		return nil, err
	}
	_, err = train.Fit(context.Background(), f.model, f.train, f.test, train.Config{Epochs: 1, Batch: 64, LR: 2e-3, Seed: 1})
	return f, err
})

type fixtureT struct {
	model       models.Model
	train, test *dataset.Dataset
}

func getFixture(t *testing.T) *fixtureT {
	t.Helper()
	f, err := fixture()
	require.NoError(t, err)
	return f
}

// fakeVAE makes a dense model look variational (posterior N(code, I)) but
// not a Generator, to exercise Sample's own prior draws and interpolation.
type fakeVAE struct{ models.Model }

func (f fakeVAE) EncodeDist(x *G.Node) (mu, logvar *G.Node, err error) {
	if mu, err = f.Encode(x); err != nil {
		return nil, nil, err
	}
	logvar, err = G.HadamardProd(mu, graph.Scalar(mu, 0))
	return mu, logvar, err
}

// NegELBO is not needed by Sample.
func (f fakeVAE) NegELBO(*G.Node) (*G.Node, error) {
	return nil, errors.New("fakeVAE has no ELBO")
}

func TestAnomalyOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		opt  AnomalyOptions
		want string
	}{
		{AnomalyOptions{Percentile: 150}, "-percentile 150"},
		{AnomalyOptions{Percentile: -1}, "-percentile -1"},
		{AnomalyOptions{Percentile: 99, Contamination: 0.7}, "-contamination 0.7"},
		{AnomalyOptions{Percentile: 99, Score: "x"}, "-score"},
	} {
		assert.ErrorContains(t, tc.opt.Check(), tc.want)
	}
	assert.NoError(t, AnomalyOptions{Percentile: 99, Contamination: 0.05}.Check())
}

func TestCheckShape(t *testing.T) {
	f := getFixture(t)
	tab := &dataset.Dataset{Name: "table.csv", N: 1, C: 1, H: 1, W: 5, X: make([]float32, 5)}
	err := CheckShape(f.model, tab)
	assert.ErrorContains(t, err, "[1 28 28]")
	assert.ErrorContains(t, err, "table.csv")
	_, err = Recon(f.model, tab, t.TempDir())
	assert.Error(t, err)
}

func TestReconAndPCA(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	r, err := Recon(f.model, f.test, out)
	require.NoError(t, err)
	assert.InDelta(t, 784.0/32, r.Figures["compression_ratio"], 1e-12)
	assert.Less(t, r.Figures["mse"], 0.08)
	assert.Greater(t, r.Figures["psnr"], 10.0)
	assert.Greater(t, r.Figures["ssim"], 0.1)
	assertPicture(t, filepath.Join(out, "reconstructions.png"))

	p, err := PCACompare(f.model, f.train, f.test, out)
	require.NoError(t, err)
	assert.Equal(t, r.Figures["mse"], p.Figures["mse"])
	assert.Less(t, p.Figures["pca_mse"], 0.03, "PCA-32 on Fashion-MNIST")
	assertPicture(t, filepath.Join(out, "pca.png"))
}

func TestDenoise(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	r, err := Denoise(f.model, f.test, models.NoiseSpec{Kind: "gaussian", Std: 0.5}, 1, out)
	require.NoError(t, err)
	// Heavy noise: even a plain autoencoder's output is closer to the clean
	// images than the noisy input.
	assert.Greater(t, r.Figures["denoised_psnr"], r.Figures["noisy_psnr"])
	assertPicture(t, filepath.Join(out, "denoising.png"))
	r2, err := Denoise(f.model, f.test, models.NoiseSpec{Kind: "gaussian", Std: 0.5}, 1, out)
	require.NoError(t, err)
	assert.Equal(t, r.Figures, r2.Figures, "seeded")
}

func TestAnomalyThresholds(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	normal := f.train.Filter(func(l int) bool { return l == 1 })
	r, err := Anomaly(f.model, f.test, normal, AnomalyOptions{Percentile: 90, NormalClass: 1}, out)
	require.NoError(t, err)
	for _, k := range []string{"auroc", "auprc", "threshold", "n_flagged", "precision", "recall"} {
		assert.Contains(t, r.Figures, k)
	}
	assert.Greater(t, r.Figures["auroc"], 0.5)
	assertPicture(t, filepath.Join(out, "roc.png"))
	b, err := os.ReadFile(filepath.Join(out, "scores.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "index,label,recon_error,anomaly\n")

	c, err := Anomaly(f.model, f.test, normal, AnomalyOptions{Percentile: 99, Contamination: 0.1, NormalClass: -1}, out)
	require.NoError(t, err)
	assert.InDelta(t, 0.1, c.Figures["flagged_frac"], 0.011)
	assert.NotContains(t, c.Figures, "auroc")
}

func TestFeatures(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	r, err := Features(f.model, f.train, f.test, FeatureOptions{KNNTrain: 500, Seed: 1}, out)
	require.NoError(t, err)
	for _, k := range []string{"knn_accuracy", "knn_pca_accuracy", "knn_raw_accuracy"} {
		assert.Greater(t, r.Figures[k], 0.4, k)
	}
	assert.Equal(t, 500.0, r.Figures["knn_train"])
	for _, name := range []string{"features_train.npy", "features_test.npy", "features_test.csv", "labels_test.npy", "latent.png"} {
		assert.FileExists(t, filepath.Join(out, name))
	}
	st, err := os.Stat(filepath.Join(out, "features_test.npy"))
	require.NoError(t, err)
	assert.Equal(t, int64(128+200*32*4), st.Size(), "200×32 float32 after a 128-byte header")
	// Labels are integers equal to the data's labels (read as numpy would).
	raw, err := os.ReadFile(filepath.Join(out, "labels_test.npy"))
	require.NoError(t, err)
	require.Greater(t, len(raw), 10)
	hlen := int(raw[8]) | int(raw[9])<<8
	assert.Contains(t, string(raw[10:10+hlen]), "'descr': '<i4'")
	body := raw[10+hlen:]
	require.Len(t, body, 4*f.test.N)
	for i, l := range f.test.Labels {
		got := int32(uint32(body[4*i]) | uint32(body[4*i+1])<<8 | uint32(body[4*i+2])<<16 | uint32(body[4*i+3])<<24)
		require.Equal(t, int32(l), got, "label %d", i)
	}
}

func TestSubsample(t *testing.T) {
	assert.Equal(t, []int{0, 1, 2}, subsample(3, 0, 1))
	s := subsample(100, 10, 1)
	assert.Len(t, s, 10)
	assert.IsNonDecreasing(t, s)
	assert.Equal(t, s, subsample(100, 10, 1))
}

func TestSamplePlainAutoencoderUsesTheMixture(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	r, err := Sample(f.model, f.train, f.test, 1, out)
	require.NoError(t, err)
	assert.Equal(t, []string{"samples.png", "interpolation.png"}, r.Images)
	assert.Equal(t, float64(SamplerComponents), r.Figures["gmm_components"])
	// A plain autoencoder's codes are nowhere near N(0, I): the mixture
	// fitted on them explains test codes far better than the prior would.
	assert.Greater(t, r.Figures["gmm_test_loglik"], r.Figures["prior_test_loglik"]+10)
	// Fitted on training codes, it explains them at least as well as unseen ones.
	assert.Greater(t, r.Figures["gmm_train_loglik"], r.Figures["gmm_test_loglik"]-5)
	assert.Contains(t, strings.Join(r.Notes, "\n"), "no prior")
	_, err = NegELBOScores(f.model, f.test)
	assert.ErrorContains(t, err, "variational")
	_, err = ImportanceBound(f.model, f.test, 5, 1)
	assert.ErrorContains(t, err, "variational")
}

func TestSampleFallback(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	r, err := Sample(fakeVAE{f.model}, f.train, f.test, 1, out)
	require.NoError(t, err)
	assert.Equal(t, []string{"samples.png", "interpolation.png"}, r.Images)
	for _, name := range r.Images {
		assert.FileExists(t, filepath.Join(out, name))
	}
}

func TestVAESampleAndNegELBO(t *testing.T) {
	f := getFixture(t)
	m := untrainedVAE(t)
	r, err := Sample(m, f.train, f.test, 1, t.TempDir())
	require.NoError(t, err)
	assert.Len(t, r.Images, 2)
	assert.Contains(t, strings.Join(r.Notes, "\n"), "prior draws")

	// The scores equal the training objective on one sample with ε = 0.
	d := f.test.Head(4)
	got, err := NegELBOScores(m, d)
	require.NoError(t, err)
	g := G.NewGraph()
	obj, err := m.Objective(g, 1)
	require.NoError(t, err)
	var loss G.Value
	G.Read(obj.Loss, &loss)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for i := range d.N {
		obj.Feed(d.Sample(i), nil)
		require.NoError(t, vm.RunAll())
		assert.InEpsilon(t, float64(loss.Data().(float32)), got[i], 1e-4, "sample %d", i)
		vm.Reset()
	}

	a, err := Anomaly(m, d, f.train.Head(50), AnomalyOptions{Percentile: 99, NormalClass: -1, Score: ScoreELBO}, t.TempDir())
	require.NoError(t, err)
	assert.InDelta(t, mean(got), a.Figures["neg_elbo"], 1e-9)
}

func TestOneClass(t *testing.T) {
	f := getFixture(t)
	tr := f.train.Filter(func(l int) bool { return l < 3 })
	te := f.test.Filter(func(l int) bool { return l < 3 })
	r, err := OneClass(context.Background(), f.model.Spec(), tr, te, OneClassConfig{Epochs: 10, Batch: 32, LR: 2e-3, Seed: 1}, t.TempDir())
	require.NoError(t, err)
	assert.Len(t, r.Values["per_class_auroc"], 3)
	assert.Len(t, r.Values["pca_per_class_auroc"], 3)
	assert.Greater(t, r.Figures["pca_mean_auroc"], 0.6)
	// The models themselves, not only the PCA baseline, separate the classes.
	assert.Greater(t, r.Figures["mean_auroc"], 0.7)
	for i, a := range r.Values["per_class_auroc"].([]float64) {
		assert.Greater(t, a, 0.5, "class %d", i)
	}
	assert.Contains(t, r.Images, "oneclass.png")
	// Every combination of parts is measured beside the chosen score, recon.
	by := r.Values["mean_auroc_by_score"].(map[string]float64)
	assert.ElementsMatch(t, []string{"recon", "ssim", "latent", "recon+ssim", "recon+latent", "ssim+latent", "recon+ssim+latent"}, slices.Collect(maps.Keys(by)))
	assert.Equal(t, r.Figures["mean_auroc"], by["recon"])
	assert.Equal(t, "recon", r.Values["oneclass_score"])
}

func TestOneClassScore(t *testing.T) {
	f := getFixture(t)
	tr := f.train.Filter(func(l int) bool { return l < 2 })
	te := f.test.Filter(func(l int) bool { return l < 2 })
	r, err := OneClass(context.Background(), f.model.Spec(), tr, te, OneClassConfig{Epochs: 2, Batch: 32, LR: 2e-3, Seed: 1, Score: "latent+recon"}, t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, "latent+recon", r.Values["oneclass_score"])
	by := r.Values["mean_auroc_by_score"].(map[string]float64)
	assert.Equal(t, r.Figures["mean_auroc"], by["latent+recon"])
	assert.InDelta(t, by["latent+recon"], by["recon+latent"], 1e-12, "the order of the parts does not matter")

	_, err = OneClass(context.Background(), f.model.Spec(), tr, te, OneClassConfig{Epochs: 1, Batch: 32, LR: 2e-3, Seed: 1, Score: "elbo"}, t.TempDir())
	assert.ErrorContains(t, err, `part "elbo" does not apply to a`)

	// A VAE kind adds the ELBO part; its negative ELBO separates the classes.
	spec, err := models.DefaultSpec("vae", []int{1, 28, 28}, 1)
	require.NoError(t, err)
	r, err = OneClass(context.Background(), spec, tr, te, OneClassConfig{Epochs: 2, Batch: 32, LR: 1e-3, Seed: 1, Score: "elbo"}, t.TempDir())
	require.NoError(t, err)
	by = r.Values["mean_auroc_by_score"].(map[string]float64)
	assert.Len(t, by, 15, "every combination of recon, ssim, elbo, latent")
	assert.Greater(t, by["elbo"], 0.7)
}

func TestParseOneClassScore(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"recon", []string{"recon"}, ""},
		{"ssim+latent", []string{"ssim", "latent"}, ""},
		{" recon + elbo ", []string{"recon", "elbo"}, ""},
		{"mse", nil, `unknown part "mse"`},
		{"recon+", nil, `unknown part ""`},
		{"recon+recon", nil, `part "recon" given twice`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseOneClassScore(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCombineScores(t *testing.T) {
	scores := map[string]partScores{
		"a": {val: []float64{1, 3}, test: []float64{2, 5}},      // mean 2, sd √2
		"b": {val: []float64{10, 10}, test: []float64{10, 12}},  // sd 0: unscaled
		"c": {val: []float64{0, 100}, test: []float64{50, 150}}, // mean 50, sd 50√2
	}
	assert.Equal(t, []float64{2, 5}, combineScores(scores, []string{"a"}))
	got := combineScores(scores, []string{"a", "b"})
	assert.InDeltaSlice(t, []float64{0, 3/math.Sqrt2 + 2}, got, 1e-12)
	got = combineScores(scores, []string{"a", "c"})
	assert.InDeltaSlice(t, []float64{0, 3/math.Sqrt2 + 100/(50*math.Sqrt2)}, got, 1e-12)
}

// assertPicture checks that path is a PNG of a sensible size with more
// than one colour in it: a picture, not just a file.
func assertPicture(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, path)
	b := img.Bounds()
	assert.GreaterOrEqual(t, b.Dx(), 28, path)
	assert.GreaterOrEqual(t, b.Dy(), 28, path)
	first := img.At(b.Min.X, b.Min.Y)
	varied := false
	for y := b.Min.Y; y < b.Max.Y && !varied; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			if img.At(x, y) != first {
				varied = true
				break
			}
		}
	}
	assert.True(t, varied, "%s is a blank picture", path)
}

// picture writes a small PNG into dir.
func picture(t *testing.T, dir, name string) {
	t.Helper()
	require.NoError(t, eval.SaveReconstructionGrid(filepath.Join(dir, name), make([]float32, 49), make([]float32, 49), 1, 1, 7, 7))
}

func TestLossCurveAndReport(t *testing.T) {
	run := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(run, "metrics.jsonl"),
		[]byte(`{"epoch":1,"train_loss":0.05,"val_loss":0.04,"extra":1}`+"\n"+`{"epoch":2,"train_loss":0.03,"val_loss":0.035}`+"\n"), 0o644))
	out := t.TempDir()
	picture(t, out, "reconstructions.png")
	r := newResult("recon")
	r.Figures["mse"], r.Figures["psnr"] = 0.01, 20
	r.image("reconstructions.png")
	spec, err := models.DefaultSpec("vae", []int{1, 28, 28}, 0)
	require.NoError(t, err)
	info := ReportInfo{Title: "vae on sample", RunDir: run, Spec: spec, Params: 1234, Data: "sample",
		Checkpoint:  filepath.Join(run, "best.safetensors"),
		TrainConfig: "# hourglass train configuration: repeat this run with  train -config " + run + "/config.yaml\nepochs: 20\n",
		EvalConfig:  "task: all\n"}
	path, err := Report(out, info, []*Result{r})
	require.NoError(t, err)
	assertPicture(t, filepath.Join(out, "loss.png"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(b)
	// Pictures are embedded, in order: the loss curve, then the task's.
	srcs := regexp.MustCompile(`<img src="([^"]*)" alt="([^"]*)"`).FindAllStringSubmatch(html, -1)
	require.Len(t, srcs, 2)
	for _, m := range srcs {
		assert.True(t, strings.HasPrefix(m[1], "data:image/png;base64,"), "%.40s", m[1])
	}
	assert.Equal(t, template.HTMLEscapeString(captions["loss.png"]), srcs[0][2])
	assert.Equal(t, template.HTMLEscapeString(captions["reconstructions.png"]), srcs[1][2])
	for _, want := range []string{
		"<h2>Reconstruction</h2>",
		`<tr><td>Mean squared error</td><td class="num">0.01</td><td>per value (MSE)</td>`,
		`<td>Peak signal-to-noise ratio</td><td class="num">20</td><td>dB</td>`,
		"negative ELBO (nats per image)",
		"vae autoencoder, 1234 parameters, code of 20 values",
		"<th>Checkpoint</th><td>best.safetensors</td>",
		"&#34;kind&#34;: &#34;vae&#34;",
		"# training\nepochs: 20\n# evaluation\ntask: all",
	} {
		assert.Contains(t, html, want)
	}
	assert.NotContains(t, html, run, "no path of the run directory")
	assert.NotContains(t, html, out, "no path of the output directory")

	name, err := LossCurve(t.TempDir(), out)
	require.NoError(t, err)
	assert.Equal(t, "", name, "no run files: no curve")
}

func TestReportAnomalySection(t *testing.T) {
	out := t.TempDir()
	picture(t, out, "roc.png")
	spec, err := models.DefaultSpec("deep", []int{1, 28, 28}, 0)
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		figures   map[string]float64
		images    []string
		want, not []string
	}{
		{"no normal class", map[string]float64{"threshold": 0.03, "flagged_frac": 0.01}, nil,
			[]string{"<h2>Anomaly detection</h2>", "Left out: no normal class was given"},
			[]string{"Anomaly threshold", "Share flagged", "<img"}},
		{"normal class given", map[string]float64{"auroc": 0.9, "threshold": 0.03, "normal_class": 1}, []string{"roc.png"},
			[]string{"<td>AUROC</td><td class=\"num\">0.9</td>", "<td>Anomaly threshold</td><td class=\"num\">0.03</td><td>per value (reconstruction MSE)</td>", "<img src=\"data:image/png;base64,"},
			[]string{"Left out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newResult("anomaly")
			r.Values["score"] = ScoreRecon
			maps.Copy(r.Figures, tc.figures)
			for _, img := range tc.images {
				r.image(img)
			}
			path, err := Report(out, ReportInfo{Title: "t", Spec: spec}, []*Result{r})
			require.NoError(t, err)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, w := range tc.want {
				assert.Contains(t, string(b), w)
			}
			for _, w := range tc.not {
				assert.NotContains(t, string(b), w)
			}
		})
	}
}

// TestEveryFigureDescribed runs the tasks and checks that each figure they
// report has a name, a unit and a meaning for the report.
func TestEveryFigureDescribed(t *testing.T) {
	f := getFixture(t)
	out := t.TempDir()
	test := f.test.Head(60)
	var results []*Result
	r, err := Recon(f.model, test, out)
	require.NoError(t, err)
	results = append(results, r)
	r, err = Denoise(f.model, test, models.NoiseSpec{Kind: "gaussian", Std: 0.3}, 1, out)
	require.NoError(t, err)
	results = append(results, r)
	r, err = PCACompare(f.model, f.train.Head(200), test, out)
	require.NoError(t, err)
	results = append(results, r)
	r, err = Anomaly(f.model, test, f.train.Head(100), AnomalyOptions{Percentile: 99, NormalClass: 1}, out)
	require.NoError(t, err)
	results = append(results, r)
	r, err = Features(f.model, f.train.Head(100), test, FeatureOptions{Seed: 1}, out)
	require.NoError(t, err)
	results = append(results, r)
	keys := []string{"mean_auroc", "pca_mean_auroc", "oneclass_epochs", "neg_elbo", "model_psnr_noisy", "model_psnr_denoised", "model_mse_noisy", "model_mse_denoised"}
	for _, r := range results {
		keys = append(keys, r.SortedFigures()...)
		for _, img := range r.Images {
			assert.NotEmpty(t, captions[img], "caption of %s", img)
		}
	}
	for _, k := range keys {
		info, ok := DescribeFigure(k)
		assert.True(t, ok, "figure %s has no description", k)
		assert.NotEmpty(t, info.Name, k)
		assert.NotEmpty(t, info.Unit, k)
		assert.NotEmpty(t, info.Meaning, k)
	}
}

func TestJSONDropsNaN(t *testing.T) {
	r := newResult("x")
	r.Figures["a"], r.Figures["b"] = math.NaN(), 1
	j := r.JSON()
	assert.Nil(t, j["a"])
	assert.Equal(t, 1.0, j["b"])
}

func TestImportanceBoundTightensWithK(t *testing.T) {
	f := getFixture(t)
	m := untrainedVAE(t)
	d := f.test.Head(100)
	var prev float64
	for i, k := range []int{1, 5, 50} {
		b, err := ImportanceBound(m, d, k, 7)
		require.NoError(t, err)
		require.Len(t, b.NegLogLik, d.N)
		bound, elbo := mean(b.NegLogLik), mean(b.NegELBO)
		if k == 1 {
			// One draw: the bound is the one-draw ELBO, sample by sample.
			assert.InDeltaSlice(t, b.NegELBO, b.NegLogLik, 1e-9)
			// ... and on average the training loss (which draws its own ε).
			loss, _, err := train.Evaluate(m, d, 50, 1)
			require.NoError(t, err)
			assert.InEpsilon(t, loss, elbo, 0.01, "one-draw ELBO against the training loss")
		} else {
			// log p̂_k rises with k on average (Burda et al., theorem 1).
			assert.Less(t, bound, prev, "k=%d against k=%d", k, []int{1, 5, 50}[i-1])
			assert.Less(t, bound, elbo, "k=%d bound against the one-draw ELBO of the same draws", k)
		}
		prev = bound
	}
	_, err := ImportanceBound(m, d, 0, 1)
	assert.ErrorContains(t, err, "k=0")
}

func TestReconReportsTheBoundForVariationalKinds(t *testing.T) {
	f := getFixture(t)
	m := untrainedVAE(t)
	d := f.test.Head(20)
	r, err := Recon(m, d, t.TempDir())
	require.NoError(t, err)
	b, err := ImportanceBound(m, d, DefaultIWAESamples, 1)
	require.NoError(t, err)
	assert.Equal(t, float64(DefaultIWAESamples), r.Figures["iwae_k"])
	assert.InDelta(t, mean(b.NegLogLik), r.Figures["neg_log_lik_iwae"], 1e-9)
	assert.Less(t, r.Figures["neg_log_lik_iwae"], r.Figures["neg_elbo_mc"])
	plain, err := Recon(f.model, d, t.TempDir())
	require.NoError(t, err)
	assert.NotContains(t, plain.Figures, "neg_log_lik_iwae")
}

// untrainedVAE is the default VAE for 28×28 pictures with fixed initial
// weights (seed 3), untrained.
func untrainedVAE(t *testing.T) models.Model {
	t.Helper()
	spec, err := models.DefaultSpec("vae", []int{1, 28, 28}, 0)
	require.NoError(t, err)
	spec.InitSeed = 3
	m, err := models.New(spec)
	require.NoError(t, err)
	return m
}
