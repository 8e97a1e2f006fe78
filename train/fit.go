package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/models"
)

// Config is how a model is trained.
type Config struct {
	Epochs int
	Batch  int
	LR     float64
	Seed   uint64
	// OutDir receives metrics.jsonl and the checkpoints; empty writes nothing.
	OutDir string
	// Progress receives progress output; nil is silent.
	Progress *Progress
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 0:
		return fmt.Errorf("epochs %d must be zero or more", c.Epochs)
	case c.Batch <= 0:
		return fmt.Errorf("batch size %d must be positive", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate %g must be a positive number", c.LR)
	}
	return nil
}

// EpochStats are the figures of one epoch, one line of metrics.jsonl.
type EpochStats struct {
	Epoch     int                `json:"epoch"`
	Step      int                `json:"step"`
	LR        float64            `json:"lr"`
	TrainLoss float64            `json:"train_loss"`
	ValLoss   float64            `json:"val_loss"`
	Parts     map[string]float64 `json:"parts,omitempty"`
	Seconds   float64            `json:"seconds"`
}

// Result is what a finished run reports.
type Result struct {
	History        []EpochStats
	BestEpoch      int
	BestValLoss    float64
	Checkpoint     string // weights after the last epoch
	BestCheckpoint string // weights of the best validation epoch
}

// Checkpoint file names inside a run directory.
const (
	LastName = "last.safetensors"
	BestName = "best.safetensors"
)

// stepRNG is the random stream of one training step. Deriving it from the
// seed and the step number, rather than carrying one generator along, lets a
// resumed run draw exactly the noise an unbroken run would have drawn.
func stepRNG(seed uint64, step int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(step)))
}

// ErrNonFinite marks a run stopped by a NaN or infinite loss.
var ErrNonFinite = errors.New("loss is not finite")

// Fit trains m on trainSet, measuring valSet after every epoch.
func Fit(ctx context.Context, m models.Model, trainSet, valSet *dataset.Dataset, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if trainSet.Dim() != m.Spec().InputDim() {
		return nil, fmt.Errorf("data %s has %d values per sample (%d×%d×%d) but model %s expects %v", trainSet.Name, trainSet.Dim(), trainSet.C, trainSet.H, trainSet.W, m.Spec().Kind, m.Spec().InputShape)
	}
	if trainSet.N < cfg.Batch {
		return nil, fmt.Errorf("batch size %d is larger than the %d training samples of %s: use -batch %d or less", cfg.Batch, trainSet.N, trainSet.Name, trainSet.N)
	}
	step, err := newStepper(m, cfg.Batch)
	if err != nil {
		return nil, err
	}
	defer step.close()
	batcher, err := dataset.NewBatcher(trainSet, cfg.Batch, true, cfg.Seed)
	if err != nil {
		return nil, err
	}
	opt := NewAdam()
	res := &Result{BestValLoss: math.Inf(1)}
	var metrics *metricsWriter
	if cfg.OutDir != "" {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating run directory: %w", err)
		}
		if metrics, err = openMetrics(filepath.Join(cfg.OutDir, "metrics.jsonl")); err != nil {
			return nil, err
		}
		defer metrics.Close()
	}
	buf := make([]float32, cfg.Batch*trainSet.Dim())
	nb := batcher.NumFullBatches()
	global := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		batcher.SetEpoch(epoch)
		cfg.Progress.StartEpoch(epoch, cfg.Epochs, nb)
		var sum float64
		for i := 0; i < nb; i++ {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			batcher.Batch(i, buf, nil)
			loss, err := step.run(buf, stepRNG(cfg.Seed, global))
			if err != nil {
				return res, fmt.Errorf("epoch %d step %d: %w", epoch, global+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return res, fmt.Errorf("epoch %d step %d: %w (%g): lower the learning rate (-lr, now %g)", epoch, global+1, ErrNonFinite, loss, cfg.LR)
			}
			grads, err := step.grads()
			if err != nil {
				return res, err
			}
			if err := opt.Step(step.params, grads, cfg.LR); err != nil {
				return res, err
			}
			// Gorgonia accumulates into the gradient buffers across runs.
			for _, g := range grads {
				clear(g)
			}
			global++
			sum += loss
			cfg.Progress.Step(i+1, sum/float64(i+1))
		}
		val, parts, err := Evaluate(m, valSet, cfg.Batch, cfg.Seed)
		if err != nil {
			return res, fmt.Errorf("epoch %d validation: %w", epoch, err)
		}
		st := EpochStats{Epoch: epoch, Step: global, LR: cfg.LR, TrainLoss: sum / float64(nb), ValLoss: val, Parts: parts, Seconds: time.Since(start).Seconds()}
		res.History = append(res.History, st)
		cfg.Progress.EndEpoch(st)
		if metrics != nil {
			if err := metrics.Write(st); err != nil {
				return res, err
			}
		}
		improved := val < res.BestValLoss
		if improved {
			res.BestValLoss, res.BestEpoch = val, epoch
		}
		if cfg.OutDir != "" {
			state := State{Epoch: epoch, Step: global, Seed: cfg.Seed, LR: cfg.LR, Batch: cfg.Batch, BestEpoch: res.BestEpoch, BestValLoss: res.BestValLoss}
			res.Checkpoint = filepath.Join(cfg.OutDir, LastName)
			if err := SaveCheckpoint(res.Checkpoint, m, opt, state); err != nil {
				return res, err
			}
			if improved {
				res.BestCheckpoint = filepath.Join(cfg.OutDir, BestName)
				if err := SaveCheckpoint(res.BestCheckpoint, m, opt, state); err != nil {
					return res, err
				}
			}
		}
	}
	return res, nil
}

// stepper is a compiled training step: the model's objective, its gradient
// and one tape machine reused for every batch.
type stepper struct {
	obj    *models.Objective
	nodes  G.Nodes
	params []*graph.Param
	vm     G.VM
	loss   G.Value
	gbuf   [][]float32
}

func newStepper(m models.Model, batch int) (*stepper, error) {
	g := G.NewGraph()
	obj, err := m.Objective(g, batch)
	if err != nil {
		return nil, fmt.Errorf("building %s objective: %w", m.Spec().Kind, err)
	}
	s := &stepper{obj: obj}
	s.nodes, s.params = m.Params().Nodes(g)
	if _, err := G.Grad(obj.Loss, s.nodes...); err != nil {
		return nil, fmt.Errorf("differentiating %s objective: %w", m.Spec().Kind, err)
	}
	G.Read(obj.Loss, &s.loss)
	s.vm = G.NewTapeMachine(g, G.BindDualValues(s.nodes...))
	s.gbuf = make([][]float32, len(s.nodes))
	return s, nil
}

// run feeds one batch, runs forward and backward, and returns the loss.
func (s *stepper) run(batch []float32, rng *rand.Rand) (float64, error) {
	s.obj.Feed(batch, rng)
	defer s.vm.Reset()
	if err := s.vm.RunAll(); err != nil {
		return 0, err
	}
	return scalar(s.loss), nil
}

// grads returns the gradient slices of the last run, in parameter order.
func (s *stepper) grads() ([][]float32, error) {
	for i, n := range s.nodes {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("no gradient for %s: %w", n.Name(), err)
		}
		s.gbuf[i] = gv.Data().([]float32)
	}
	return s.gbuf, nil
}

func (s *stepper) close() {
	s.vm.Close()
}

func scalar(v G.Value) float64 {
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	case []float32:
		return float64(d[0])
	}
	return math.NaN()
}
