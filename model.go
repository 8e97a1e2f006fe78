package hourglass

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// Spec describes a model's architecture; it is stored in every checkpoint.
type Spec = models.Spec

// Threshold is the anomaly threshold stored with a model.
type Threshold = train.Threshold

// ErrNoThreshold is returned by Predict when the model carries no anomaly
// threshold.
var ErrNoThreshold = errors.New("the model has no anomaly threshold: fit one with FitThreshold (or train with hourglass.Train, which stores one)")

// Model is a trained autoencoder with the scaler it was trained with and,
// when fitted, its anomaly threshold. It is safe for concurrent use.
type Model struct {
	m      models.Model
	scaler *dataset.Scaler // nil: the model takes the data as it is
	// imputer fills missing values (NaN) as training did (train -impute);
	// nil: a NaN in the input is an error.
	imputer *dataset.Imputer
	meta    map[string]string
	thr     atomic.Pointer[Threshold]
	// Pools of compiled inference graphs: a small batch for requests of a
	// few rows (so one row does not pay for 256), a large one for bulk.
	small, large chan *models.Runner
}

// Batch sizes of the pooled inference graphs.
const (
	smallBatch = 16
	largeBatch = models.InferBatch
)

func newModel(m models.Model, scaler *dataset.Scaler, meta map[string]string) *Model {
	n := 2 * runtime.GOMAXPROCS(0)
	if meta == nil {
		meta = map[string]string{}
	}
	return &Model{m: m, scaler: scaler, meta: meta, small: make(chan *models.Runner, n), large: make(chan *models.Runner, n)}
}

// Load reads a checkpoint written by hourglass (by Train, Model.Save or
// the train command): the model, its scaler and its threshold.
func Load(path string) (*Model, error) {
	l, err := train.LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	sc, err := l.Scaler()
	if err != nil {
		return nil, err
	}
	out := newModel(l.Model, sc, l.Meta)
	if out.imputer, err = l.Imputer(); err != nil {
		return nil, err
	}
	if t, ok, err := l.Threshold(); err != nil {
		return nil, err
	} else if ok {
		out.thr.Store(&t)
	}
	return out, nil
}

// Spec is the model's architecture.
func (m *Model) Spec() Spec { return m.m.Spec() }

// InputDim is the number of values of one sample.
func (m *Model) InputDim() int { return m.m.Spec().InputDim() }

// CodeDim is the number of values of one sample's code.
func (m *Model) CodeDim() int { return m.m.Spec().Latent }

// Threshold returns the anomaly threshold; ok is false when there is none.
func (m *Model) Threshold() (t Threshold, ok bool) {
	if p := m.thr.Load(); p != nil {
		return *p, true
	}
	return Threshold{}, false
}

// SetThreshold replaces the anomaly threshold (a score above t.Value is
// flagged); Save stores it.
func (m *Model) SetThreshold(t Threshold) error {
	if t.Score == "" {
		t.Score = m.scoreName()
	}
	if t.Score != m.scoreName() {
		return fmt.Errorf("threshold for %s scores, but a %s model scores by %s", t.Score, m.Spec().Kind, m.scoreName())
	}
	if err := t.Validate(); err != nil {
		return err
	}
	m.thr.Store(&t)
	return nil
}

// FitThreshold sets the threshold to the given percentile (in [0, 100],
// e.g. 99) of the scores of normal, samples known to be normal.
func (m *Model) FitThreshold(normal []float32, percentile float64) error {
	scores, err := m.Score(normal)
	if err != nil {
		return err
	}
	v, err := eval.Percentile(scores, percentile)
	if err != nil {
		return err
	}
	return m.SetThreshold(Threshold{Value: v, Percentile: percentile, N: len(scores)})
}

// ScoreName names what Score returns, as Threshold.Score does: "recon"
// (per-sample mean squared error) or "elbo" (negative ELBO, variational
// kinds).
func (m *Model) ScoreName() string { return m.scoreName() }

func (m *Model) scoreName() string {
	if _, ok := m.m.(models.Variational); ok {
		return "elbo"
	}
	return "recon"
}

// rows checks x against the model's input width and returns the number of
// samples.
func (m *Model) rows(x []float32) (int, error) {
	dim := m.InputDim()
	if len(x) == 0 || len(x)%dim != 0 {
		return 0, fmt.Errorf("input has %d values, not a positive number of samples of %d values (%v)", len(x), dim, m.Spec().InputShape)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) && m.imputer != nil {
			continue // a missing value, filled by scaled
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("input sample %d, value %d: %v is not a finite number (NaN for a missing value needs a model trained with -impute)", i/dim, i%dim, v)
		}
	}
	return len(x) / dim, nil
}

// scaled returns x with its missing values filled by the model's imputer
// and mapped by its scaler (a copy when either changes it).
func (m *Model) scaled(x []float32) ([]float32, error) {
	scales := m.scaler != nil && m.scaler.Kind != "none"
	if m.imputer == nil && !scales {
		return x, nil
	}
	c := append([]float32(nil), x...)
	if m.imputer != nil {
		if _, err := m.imputer.ApplySlice(c); err != nil {
			return nil, err
		}
	}
	if scales {
		if err := m.scaler.ApplySlice(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// run scales x and runs it through a pooled scoring graph, returning the
// reconstruction (scaled units) and the codes when asked for (nil
// otherwise, so that scoring a large set holds no n×InputDim buffer) and
// the scores.
func (m *Model) run(x []float32, wantRecon, wantCode bool) (recon, code []float32, score []float64, err error) {
	n, err := m.rows(x)
	if err != nil {
		return nil, nil, nil, err
	}
	if x, err = m.scaled(x); err != nil {
		return nil, nil, nil, err
	}
	pool, batch := m.small, smallBatch
	if n > smallBatch {
		pool, batch = m.large, largeBatch
	}
	var r *models.Runner
	select {
	case r = <-pool:
	default:
		if r, err = models.NewRunner(m.m, batch, models.ScoreBuild(m.m)); err != nil {
			return nil, nil, nil, err
		}
	}
	w := r.Widths()
	if wantRecon {
		recon = make([]float32, n*w[0])
	}
	if wantCode {
		code = make([]float32, n*w[1])
	}
	s := make([]float32, n)
	err = r.Run(x, n, recon, code, s)
	select {
	case pool <- r:
	default:
		r.Close()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	score = make([]float64, n)
	for i, v := range s {
		score[i] = float64(v)
	}
	return recon, code, score, nil
}

// Scaler returns a copy of the feature scaler the model applies to its
// input, or nil when it takes the data as it is.
func (m *Model) Scaler() *dataset.Scaler {
	if m.scaler == nil {
		return nil
	}
	c := *m.scaler
	c.A, c.B = append([]float32(nil), m.scaler.A...), append([]float32(nil), m.scaler.B...)
	return &c
}

// Outputs is everything one pass of the model computes for n samples.
type Outputs struct {
	Scores []float64 // n anomaly scores
	Codes  []float32 // n×CodeDim
	// Reconstruction is n×InputDim in the input's units (the scaler
	// inverted), as Reconstruct returns it.
	Reconstruction []float32
}

// Run scores, encodes and reconstructs the samples in x in one pass, for
// callers that need more than one of them (a server explaining scores).
func (m *Model) Run(x []float32) (*Outputs, error) {
	recon, code, score, err := m.run(x, true, true)
	if err != nil {
		return nil, err
	}
	if m.scaler != nil && m.scaler.Kind != "none" {
		if err := m.scaler.InvertSlice(recon); err != nil {
			return nil, err
		}
	}
	return &Outputs{Scores: score, Codes: code, Reconstruction: recon}, nil
}

// Encode returns the codes of the samples in x: n×CodeDim values (the
// posterior mean for the variational kinds).
func (m *Model) Encode(x []float32) ([]float32, error) {
	_, code, _, err := m.run(x, false, true)
	return code, err
}

// Reconstruct returns the model's reconstruction of the samples in x, in
// x's units (the scaler is inverted).
func (m *Model) Reconstruct(x []float32) ([]float32, error) {
	o, err := m.Run(x)
	if err != nil {
		return nil, err
	}
	return o.Reconstruction, nil
}

// Score returns each sample's anomaly score (see the package comment).
func (m *Model) Score(x []float32) ([]float64, error) {
	_, _, s, err := m.run(x, false, false)
	return s, err
}

// Predict flags the samples whose score is above the model's threshold.
func (m *Model) Predict(x []float32) ([]bool, error) {
	t, ok := m.Threshold()
	if !ok {
		return nil, ErrNoThreshold
	}
	s, err := m.Score(x)
	if err != nil {
		return nil, err
	}
	return eval.Flag(s, t.Value), nil
}

// Save writes the model, its scaler and its threshold to path atomically,
// without optimizer state: the file to deploy or share.
func (m *Model) Save(path string) error {
	meta := map[string]string{}
	for k, v := range m.meta {
		meta[k] = v
	}
	if m.scaler != nil {
		js, err := train.EncodeMeta(m.scaler)
		if err != nil {
			return err
		}
		meta[train.MetaScaler] = js
	}
	if t, ok := m.Threshold(); ok {
		js, err := train.EncodeMeta(t)
		if err != nil {
			return err
		}
		meta[train.MetaThreshold] = js
	}
	return train.SaveModel(path, m.m, meta)
}

// Close frees the pooled inference graphs. The model stays usable; later
// calls compile new ones.
func (m *Model) Close() {
	for _, p := range []chan *models.Runner{m.small, m.large} {
		for {
			select {
			case r := <-p:
				r.Close()
				continue
			default:
			}
			break
		}
	}
}
