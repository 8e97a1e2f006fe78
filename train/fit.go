package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/internal/kernels"
	"github.com/hourglass-ml/hourglass/models"
)

// Config is how a model is trained. The zero values of the fields after
// OutDir give plain Adam at a constant rate, a checkpoint every epoch and
// no early stopping.
type Config struct {
	// Epochs is the total number of epochs, counting those of a resumed run.
	Epochs int
	Batch  int
	// LR is the base learning rate; the schedule moves from it.
	LR   float64
	Seed uint64
	// OutDir receives metrics and the checkpoints; empty writes nothing.
	OutDir string
	// Progress receives progress output; nil is silent.
	Progress *Progress

	Optim    OptimConfig
	Schedule ScheduleConfig
	// ClipNorm > 0 rescales each step's gradients to at most this global L2 norm.
	ClipNorm float64
	// EarlyStop > 0 stops the run after that many epochs without the
	// validation loss improving by more than MinDelta.
	EarlyStop int
	MinDelta  float64
	// SaveEvery writes a checkpoint every that many epochs (0: every epoch);
	// the last epoch, an early stop and an interruption are always saved.
	SaveEvery int
	// Keep is how many epoch checkpoints (epoch-NNNN.safetensors) to keep,
	// newest first; 0 keeps them all. last and best are always kept.
	Keep int
	// Device runs the graphs; empty is device.DefaultDevice().
	Device device.Device
	// Run is OutDir opened by the caller (who may write files into it
	// before training, under its lock); nil makes Fit open and close it.
	Run *RunDir
	// Resume continues the run stored in this checkpoint. The model m given
	// to Fit must have the checkpoint's spec; its weights are overwritten.
	Resume *Loaded
	// InitFromData starts a new run's model (one that implements
	// models.MeanInitializer: the VAE) from the mean of the first meanRows
	// training samples. Leave it off to fine-tune a trained model; a
	// resumed run ignores it.
	InitFromData bool
	// Meta is stored in every checkpoint as metadata (cmd/train keeps the
	// run's configuration there) and comes back in Loaded.Meta.
	Meta map[string]string
	// AfterStep, when set, is called after every optimizer step with the
	// epoch and the number of steps taken.
	AfterStep func(epoch, step int)
	// Hooks are further concerns of the run (see Hook), called after
	// AfterEpoch and before the checkpoint hook.
	Hooks []Hook
	// AfterEpoch, when set, is called with each epoch's figures before its
	// checkpoint is written. Returning an error wrapping ErrStop ends the
	// run after this epoch as early stopping does (saved, and resumable as
	// finished); any other error ends it at once with that error.
	AfterEpoch func(EpochStats) error
}

// ErrStop, returned by Config.AfterEpoch, asks Fit to stop after the
// current epoch.
var ErrStop = errors.New("stop training")

// Validate reports the first bad field.
func (c Config) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case c.Epochs < 0:
		return fmt.Errorf("epochs %d must be zero or more", c.Epochs)
	case c.Batch <= 0:
		return fmt.Errorf("batch size %d must be positive", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate %g must be a positive number", c.LR)
	case !finite(c.ClipNorm) || c.ClipNorm < 0:
		return fmt.Errorf("clip norm %g must be zero (off) or positive", c.ClipNorm)
	case c.EarlyStop < 0:
		return fmt.Errorf("early stop %d must be zero (off) or a number of epochs", c.EarlyStop)
	case !finite(c.MinDelta) || c.MinDelta < 0:
		return fmt.Errorf("min delta %g must be zero or more", c.MinDelta)
	case c.SaveEvery < 0:
		return fmt.Errorf("save every %d must be zero or more epochs", c.SaveEvery)
	case c.Keep < 0:
		return fmt.Errorf("keep %d must be zero (all) or more", c.Keep)
	}
	if err := c.Optim.Validate(); err != nil {
		return err
	}
	return c.Schedule.Validate()
}

// EpochStats are the figures of one epoch, one line of metrics.jsonl.
type EpochStats struct {
	Epoch     int
	Step      int
	LR        float64
	TrainLoss float64
	ValLoss   float64
	// Parts are the kind's own parts of the validation objective (KL, ...).
	Parts   map[string]float64
	Seconds float64
}

// Result is what a run reports, also when it stops with an error.
type Result struct {
	// History has every epoch of the run, those before a resume included.
	History        []EpochStats
	BestEpoch      int
	BestValLoss    float64
	Checkpoint     string // weights after the last epoch (or of the interruption)
	BestCheckpoint string // weights of the best validation epoch
	// Stopped says why the run ended before its last epoch (early stopping).
	Stopped string
	// Warnings are one-line notes about damaged files Fit worked around
	// (a corrupt metrics.jsonl line it skipped, keeping the original).
	Warnings []string
}

// Checkpoint file names inside a run directory.
const (
	LastName = "last.safetensors"
	BestName = "best.safetensors"
)

// EpochName is the file name of the checkpoint of epoch e.
func EpochName(e int) string { return fmt.Sprintf("epoch-%04d.safetensors", e) }

// stepRNG is the random stream of one training step. Deriving it from the
// seed and the step number, rather than carrying one generator along, lets a
// resumed run draw exactly the noise an unbroken run would have drawn.
func stepRNG(seed uint64, step int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(step)))
}

// firstNonFinite names the first parameter holding a NaN or infinity.
func firstNonFinite(params []*graph.Param) string {
	for _, p := range params {
		if firstNonFiniteValue(p.Data()) >= 0 {
			return p.Name
		}
	}
	return ""
}

// firstNonFiniteGrad names the first parameter whose gradient holds a NaN
// or an infinity.
func firstNonFiniteGrad(params []*graph.Param, grads [][]float32) string {
	for i, g := range grads {
		if firstNonFiniteValue(g) >= 0 {
			return params[i].Name
		}
	}
	return ""
}

// ErrNonFinite marks a run stopped by a NaN or infinite loss.
var ErrNonFinite = errors.New("loss is not finite")

// ErrInterrupted marks a run stopped by its context (SIGINT, SIGTERM) after
// saving a checkpoint to resume from.
var ErrInterrupted = errors.New("training interrupted")

// Fit trains m on trainSet, measuring valSet after every epoch. It is
// FitSource over dataset.NewMemorySource(trainSet, cfg.Batch, cfg.Seed),
// whose batches are the Batcher's, so runs are as they always were.
func Fit(ctx context.Context, m models.Model, trainSet, valSet *dataset.Dataset, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkData(m, cfg, trainSet.Name, trainSet.N, trainSet.C, trainSet.H, trainSet.W); err != nil {
		return nil, err
	}
	src, err := dataset.NewMemorySource(trainSet, cfg.Batch, cfg.Seed)
	if err != nil {
		return nil, err
	}
	return FitSource(ctx, m, src, valSet, cfg)
}

// meanRows is how many samples Config.InitFromData averages: the mean of
// pixels in [0, 1] to within about 0.005, for a fraction of a pass over
// data larger than memory.
const meanRows = 10_000

// sourceMean is the mean sample of the first batches of src's first epoch
// (at least rows samples, or all of them). The training loop restarts src
// at its own position afterwards.
func sourceMean(src dataset.BatchSource, dim, rows int) ([]float32, error) {
	if err := src.StartEpoch(1, 0); err != nil {
		return nil, fmt.Errorf("training data %s, its mean: %w", src.Name(), err)
	}
	bs := src.BatchSize()
	buf := make([]float32, bs*dim)
	sum := make([]float64, dim)
	n := 0
	for b := 0; b < src.NumBatches() && n < rows; b++ {
		if err := src.Next(buf); err != nil {
			return nil, fmt.Errorf("training data %s, its mean: %w", src.Name(), err)
		}
		for i := range bs {
			for j, v := range buf[i*dim : (i+1)*dim] {
				sum[j] += float64(v)
			}
		}
		n += bs
	}
	mean := make([]float32, dim)
	for j, v := range sum {
		mean[j] = float32(v / float64(n))
	}
	return mean, nil
}

// checkData reports training data that cannot train m with cfg's batch.
func checkData(m models.Model, cfg Config, name string, n, c, h, w int) error {
	if c*h*w != m.Spec().InputDim() {
		return fmt.Errorf("data %s has %d values per sample (%d×%d×%d) but model %s expects %v", name, c*h*w, c, h, w, m.Spec().Kind, m.Spec().InputShape)
	}
	if n < cfg.Batch {
		return fmt.Errorf("batch size %d is larger than the %d training samples of %s: use -batch %d or less", cfg.Batch, n, name, n)
	}
	return nil
}

// FitSource trains m on the batches of src, measuring valSet after every
// epoch. src may stream data larger than memory (dataset.Stream): the loop
// holds one batch of it. Validation stays an in-memory Dataset because it
// is measured every epoch and is meant to be small (a held-out shard); a
// stream would be read whole once per epoch. src must hand out batches of
// cfg.Batch in an order fixed by (cfg.Seed, epoch), so that a resumed run
// (src.StartEpoch(epoch, position)) sees the batches an unbroken run saw.
// An error from src.Next — a shard changed or damaged during the run —
// ends the run without saving: the last checkpoint written stays the
// run's last good one. FitSource does not close src.
func FitSource(ctx context.Context, m models.Model, src dataset.BatchSource, valSet *dataset.Dataset, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, h, w := src.Shape()
	if err := checkData(m, cfg, src.Name(), src.Len(), c, h, w); err != nil {
		return nil, err
	}
	if src.BatchSize() != cfg.Batch {
		return nil, fmt.Errorf("data %s hands out batches of %d but the run's batch size is %d: open it with the run's batch size", src.Name(), src.BatchSize(), cfg.Batch)
	}
	noVal := valSet == nil || valSet.N == 0
	if noVal && cfg.EarlyStop > 0 {
		return nil, errors.New("early stopping needs a validation set")
	}
	if noVal && cfg.Schedule.withDefaults().Name == "plateau" {
		return nil, errors.New("the plateau schedule needs a validation set")
	}
	if !noVal && valSet.Dim() != c*h*w {
		return nil, fmt.Errorf("validation data %s has %d values per sample but the training data %s has %d: use validation data of the same columns", valSet.Name, valSet.Dim(), src.Name(), c*h*w)
	}
	dev := cfg.Device
	if dev == "" {
		dev = device.DefaultDevice()
	}
	opt, err := NewOptimizer(cfg.Optim)
	if err != nil {
		return nil, err
	}
	nb := src.NumBatches()
	sched, err := NewScheduler(cfg.Schedule, cfg.LR, cfg.Epochs*nb)
	if err != nil {
		return nil, err
	}
	st := State{Seed: cfg.Seed, Batch: cfg.Batch, TrainN: src.Len(), Optimizer: opt.Name(), BestValLoss: math.Inf(1)}
	if cfg.Resume != nil {
		if st, err = resume(cfg, m, opt, sched, src.Len()); err != nil {
			return nil, err
		}
	}
	if mi, ok := m.(models.MeanInitializer); ok && cfg.InitFromData && cfg.Resume == nil {
		mean, err := sourceMean(src, c*h*w, meanRows)
		if err != nil {
			return nil, err
		}
		if err := mi.InitFromMean(mean); err != nil {
			return nil, fmt.Errorf("training data %s: %w", src.Name(), err)
		}
	}
	res := &Result{BestEpoch: st.BestEpoch, BestValLoss: st.BestValLoss, Stopped: st.Stopped}
	var metrics *metricsWriter
	if cfg.OutDir != "" {
		rd := cfg.Run
		if rd == nil {
			if rd, err = OpenRunDir(cfg.OutDir); err != nil {
				return nil, err
			}
			defer rd.Close()
		}
		if st.RunID, err = claimRun(rd, cfg.Resume); err != nil {
			return nil, err
		}
		keep := -1
		if cfg.Resume != nil {
			keep = st.Epoch
			res.Checkpoint = filepath.Join(cfg.OutDir, LastName)
		}
		if metrics, res.History, err = openMetrics(cfg.OutDir, keep); err != nil {
			return nil, err
		}
		defer metrics.Close()
		metrics.unit = LossName(m.Spec())
		res.Warnings = append(res.Warnings, metrics.Warnings...)
		if st.BestEpoch > 0 {
			res.BestCheckpoint = filepath.Join(cfg.OutDir, BestName)
		}
	}
	if st.Stopped != "" || st.Epoch >= cfg.Epochs {
		return res, nil
	}
	step, err := newStepper(m, cfg.Batch, dev)
	if err != nil {
		return nil, err
	}
	defer step.close()
	defer cfg.Progress.Close()
	run := &Run{Config: cfg, State: &st, Result: res}
	run.save = func(paths []string) error {
		// Saturated activations can keep the loss finite while weights
		// overflow; checked once per save (not per step, it is a full pass
		// over the weights) so that no checkpoint ever holds them.
		if p := firstNonFinite(m.Params().List()); p != "" {
			kept := ""
			if res.Checkpoint != "" {
				kept = fmt.Sprintf("; the last good checkpoint is %s", res.Checkpoint)
			}
			return fmt.Errorf("epoch %d step %d: %w (parameter %s is NaN or infinite): lower the learning rate (-lr %g) or set -clip-norm%s",
				st.Epoch, st.Step, ErrNonFinite, p, cfg.LR, kept)
		}
		st.Optimizer = opt.Name()
		st.Schedule = sched.State()
		return saveCheckpoint(paths, m, opt, st, cfg.Meta)
	}
	hooks := cfg.hooks(metrics)
	// Batches go straight into the graph's input, where Feed then skips its
	// copy; an objective without one gets a buffer of its own.
	buf := step.obj.Input
	if len(buf) != cfg.Batch*c*h*w {
		buf = make([]float32, cfg.Batch*c*h*w)
	}
	lr := cfg.LR
	for epoch := st.Epoch + 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		// st.Pos is the resumed position in the first epoch, 0 after it.
		if err := src.StartEpoch(epoch, st.Pos); err != nil {
			return res, fmt.Errorf("epoch %d: training data: %w%s", epoch, err, lastGood(res))
		}
		for _, h := range hooks {
			h.EpochStart(run, epoch, nb)
		}
		first, sum := st.Pos, st.PosLoss
		for i := first; i < nb; i++ {
			if ctx.Err() != nil {
				st.Epoch, st.Pos, st.PosLoss = epoch-1, i, sum
				where := fmt.Sprintf("in epoch %d after step %d", epoch, st.Step)
				if i == 0 {
					where = fmt.Sprintf("after epoch %d (step %d)", epoch-1, st.Step)
				}
				return res, interrupted(ctx, cfg.OutDir, where, run.save, res)
			}
			if err := src.Next(buf); err != nil {
				if errors.Is(err, io.EOF) {
					err = fmt.Errorf("%s ended after %d of its %d batches", src.Name(), i, nb)
				}
				return res, fmt.Errorf("epoch %d step %d: training data: %w%s", epoch, st.Step+1, err, lastGood(res))
			}
			loss, err := step.run(buf, stepRNG(cfg.Seed, st.Step))
			if err != nil {
				return res, fmt.Errorf("epoch %d step %d: %w", epoch, st.Step+1, err)
			}
			lr = sched.LR(epoch, st.Step)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				kept := ""
				if res.Checkpoint != "" {
					kept = fmt.Sprintf("; the last good checkpoint is %s", res.Checkpoint)
				}
				return res, fmt.Errorf("epoch %d step %d: %w (%g): lower the learning rate (-lr %g, %g at this step) or set -clip-norm%s",
					epoch, st.Step+1, ErrNonFinite, loss, cfg.LR, lr, kept)
			}
			grads, err := step.grads()
			if err != nil {
				return res, err
			}
			if i == first && epoch == st.Epoch+1 {
				// The first step of a process checks every gradient once: a
				// NaN weight from a damaged or hand-edited checkpoint shows
				// here, not an epoch later at the save-time check.
				if name := firstNonFiniteGrad(step.params, grads); name != "" {
					return res, fmt.Errorf("epoch %d step %d: %w (the gradient of %s is NaN or infinite; is a weight of the checkpoint damaged?)", epoch, st.Step+1, ErrNonFinite, name)
				}
			}
			if cfg.ClipNorm > 0 {
				ClipGradNorm(grads, cfg.ClipNorm)
			}
			if err := opt.Step(step.params, grads, lr); err != nil {
				return res, err
			}
			if step.accumulates() {
				// Gorgonia adds into the dual values' buffers across runs.
				for _, g := range grads {
					kernels.Clear(g)
				}
			}
			st.Step++
			st.LR = lr
			sum += loss
			for _, h := range hooks {
				h.Step(run, epoch, i+1, sum/float64(i+1))
			}
		}
		st.Pos, st.PosLoss = 0, 0
		val, parts, err := evaluate(m, valSet, cfg.Batch, cfg.Seed, dev)
		if err != nil {
			return res, fmt.Errorf("epoch %d validation: %w", epoch, err)
		}
		es := EpochStats{Epoch: epoch, Step: st.Step, LR: lr, TrainLoss: sum / float64(nb), ValLoss: val, Parts: parts, Seconds: time.Since(start).Seconds()}
		sched.EndEpoch(val)
		run.Improved = !math.IsNaN(val) && val < st.BestValLoss-cfg.MinDelta
		if run.Improved {
			st.BestValLoss, st.BestEpoch, st.SinceBest = val, epoch, 0
			res.BestValLoss, res.BestEpoch = val, epoch
		} else {
			st.SinceBest++
		}
		st.Epoch = epoch
		res.History = append(res.History, es)
		for _, h := range hooks {
			if err := h.EpochEnd(run, es); err != nil {
				return res, err
			}
		}
		if st.Stopped != "" {
			break
		}
	}
	return res, nil
}

// lastGood names the checkpoint a run that fails keeps, for its message.
func lastGood(res *Result) string {
	if res.Checkpoint == "" {
		return " (no checkpoint was saved)"
	}
	return "; the last good checkpoint is " + res.Checkpoint
}

// claimRun ties the run directory to one run: a new run claims an empty
// directory with a fresh id; a resumed run must carry the directory's id,
// so a checkpoint copied in from another run cannot overwrite this one's.
func claimRun(rd *RunDir, resume *Loaded) (string, error) {
	id, err := rd.ID()
	if err != nil {
		return "", err
	}
	if resume == nil {
		if _, err := os.Stat(filepath.Join(rd.Dir, LastName)); err == nil {
			return "", fmt.Errorf("run directory %s already holds a run: continue it with -resume %s, or choose another -out", rd.Dir, rd.Dir)
		}
		return rd.Claim()
	}
	theirs := resume.State.RunID
	where := resume.Path
	if where == "" {
		where = "the checkpoint"
	}
	switch {
	case id != "" && theirs != "" && id != theirs:
		return "", fmt.Errorf("%s belongs to run %s, but %s holds run %s: was it copied from another run? Resume from this run's own checkpoint, or start a new run with another -out", where, theirs, rd.Dir, id)
	case id != "":
		return id, nil // a checkpoint from before run ids: take the directory's
	case theirs != "":
		// A directory that lost its run-id file (or predates it) takes the id back.
		return theirs, rd.setID(theirs)
	}
	return rd.Claim()
}

// interrupted saves the position of a run stopped by ctx and says how to
// continue it.
func interrupted(ctx context.Context, dir, where string, save func([]string) error, res *Result) error {
	if dir == "" {
		return fmt.Errorf("%w %s (no run directory, nothing saved): %w", ErrInterrupted, where, context.Cause(ctx))
	}
	last := filepath.Join(dir, LastName)
	if err := save([]string{last}); err != nil {
		return fmt.Errorf("%w %s, and the checkpoint could not be saved: %w", ErrInterrupted, where, err)
	}
	res.Checkpoint = last
	return fmt.Errorf("%w %s; saved %s: %w", ErrInterrupted, where, last, context.Cause(ctx))
}

// CheckResume reports, without changing anything, why cfg.Resume cannot
// continue as a run of m on trainSet (nil when it can). Fit checks the
// same; a command calls it first to fail before writing any file.
func CheckResume(cfg Config, m models.Model, trainSet *dataset.Dataset) error {
	return CheckResumeN(cfg, m, trainSet.N)
}

// CheckResumeN is CheckResume for training data of trainN samples (a
// BatchSource's Len), for runs that do not hold their data in memory.
func CheckResumeN(cfg Config, m models.Model, trainN int) error {
	if cfg.Resume == nil {
		return nil
	}
	opt, err := NewOptimizer(cfg.Optim)
	if err != nil {
		return err
	}
	return checkResume(cfg, m, opt.Name(), trainN)
}

func checkResume(cfg Config, m models.Model, optName string, trainN int) error {
	r := cfg.Resume
	st := r.State
	where := r.Path
	if where == "" {
		where = "checkpoint"
	}
	if got, want := r.Model.Spec().JSON(), m.Spec().JSON(); got != want {
		return fmt.Errorf("%s holds a model with spec %s, but this run's model is %s: resume with the same model flags, or start a new run", where, got, want)
	}
	switch {
	case st.Optimizer == "":
		return fmt.Errorf("%s holds no training state (a weights-only file, for inference): it can be evaluated but not resumed", where)
	case st.Seed != cfg.Seed:
		return fmt.Errorf("%s was trained with seed %d, not %d: resume with -seed %d", where, st.Seed, cfg.Seed, st.Seed)
	case st.Batch != cfg.Batch:
		return fmt.Errorf("%s was trained with batch size %d, not %d: resume with -batch %d", where, st.Batch, cfg.Batch, st.Batch)
	case st.TrainN != 0 && st.TrainN != trainN:
		return fmt.Errorf("%s was trained on %d samples but this training set has %d: resume with the same data and validation split", where, st.TrainN, trainN)
	case st.Optimizer != optName:
		return fmt.Errorf("%s was trained with the %s optimizer, not %s: resume with -optimizer %s", where, st.Optimizer, optName, st.Optimizer)
	case st.Epoch > cfg.Epochs || (st.Epoch == cfg.Epochs && st.Pos > 0):
		return fmt.Errorf("%s is already at epoch %d: -epochs counts all epochs of the run, so ask for more than %d", where, st.Epoch, st.Epoch)
	}
	return nil
}

// resume checks that the checkpoint cfg.Resume belongs to this run and
// loads its weights, optimizer and schedule state into m, opt and sched.
func resume(cfg Config, m models.Model, opt Optimizer, sched *Scheduler, trainN int) (State, error) {
	r := cfg.Resume
	st := r.State
	where := r.Path
	if where == "" {
		where = "checkpoint"
	}
	if err := checkResume(cfg, m, opt.Name(), trainN); err != nil {
		return st, err
	}
	if r.Model != m {
		for _, p := range m.Params().List() {
			q, ok := r.Model.Params().Get(p.Name)
			if !ok {
				return st, fmt.Errorf("%s has no parameter %s", where, p.Name)
			}
			copy(p.Data(), q.Data())
		}
	}
	// A run stopped before its first step has no optimizer buffers yet;
	// they start at zero exactly as in an unbroken run.
	if st.Step > 0 {
		if err := opt.Load(r.Optim, m.Params().List()); err != nil {
			return st, fmt.Errorf("%s: %w", where, err)
		}
	}
	opt.SetSteps(st.Step)
	sched.SetState(st.Schedule)
	if st.BestEpoch == 0 {
		st.BestValLoss = math.Inf(1)
	}
	return st, nil
}

// EpochCheckpoints lists the epoch checkpoints of run directory dir,
// oldest first.
func EpochCheckpoints(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "epoch-*.safetensors"))
	sort.Strings(files) // zero-padded epoch numbers sort in order
	return files, err
}

// pruneEpochs removes all but the newest keep epoch checkpoints of dir.
func pruneEpochs(dir string, keep int) error {
	if keep <= 0 {
		return nil
	}
	files, err := EpochCheckpoints(dir)
	if err != nil {
		return err
	}
	for len(files) > keep {
		if err := os.Remove(files[0]); err != nil {
			return fmt.Errorf("removing old checkpoint: %w", err)
		}
		files = files[1:]
	}
	return nil
}

// stepper is a compiled training step: the model's objective, its gradient
// and one tape machine reused for every batch.
type stepper struct {
	g      *G.ExprGraph
	ps     *graph.Params
	obj    *models.Objective
	nodes  G.Nodes
	params []*graph.Param
	vm     G.VM
	loss   G.Value
	gbuf   [][]float32
	// grad holds each parameter's gradient node when the step reads the
	// gradients straight from them (see directGrads); nil when Gorgonia
	// accumulates them into the parameters' dual values instead, which
	// must then be cleared after every step.
	grad G.Nodes
}

func newStepper(m models.Model, batch int, dev device.Device) (*stepper, error) {
	return buildStepper(m, batch, dev, true)
}

// buildStepper compiles the step; direct allows reading the gradients
// from their nodes (the tests compare both ways).
func buildStepper(m models.Model, batch int, dev device.Device, direct bool) (*stepper, error) {
	g := G.NewGraph()
	obj, err := m.Objective(g, batch)
	if err != nil {
		return nil, fmt.Errorf("building %s objective: %w", m.Spec().Kind, err)
	}
	s := &stepper{obj: obj, g: g, ps: m.Params()}
	s.nodes, s.params = m.Params().Nodes(g)
	grad, err := G.Grad(obj.Loss, s.nodes...)
	if err != nil {
		return nil, fmt.Errorf("differentiating %s objective: %w", m.Spec().Kind, err)
	}
	G.Read(obj.Loss, &s.loss)
	var opts []G.VMOpt
	if direct && dev == device.CPU && directGrads(g, grad) {
		s.grad = grad
	} else {
		opts = append(opts, G.BindDualValues(s.nodes...))
	}
	vm, err := device.NewMachine(g, dev, opts...)
	if err != nil {
		return nil, err
	}
	s.vm = vm
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

// directGrads reports whether the gradient nodes can be read after a run:
// each is an op node of its own that nothing else in the graph reads. The
// tape machine then never reuses its register (it overwrites only inputs
// no longer live), so its value after RunAll is the whole gradient.
// Binding dual values instead makes the machine add every gradient into a
// second buffer, a serial pass over all the weights (3-4% of a deep step)
// that the trainer then has to clear again.
func directGrads(g *G.ExprGraph, grad G.Nodes) bool {
	seen := make(map[*G.Node]bool, len(grad))
	for _, n := range grad {
		if n == nil || seen[n] || n.Op() == nil || g.To(n.ID()).Len() != 0 {
			return false
		}
		seen[n] = true
	}
	return true
}

// accumulates reports whether the gradient buffers of grads add up across
// runs and must be cleared after each step.
func (s *stepper) accumulates() bool { return s.grad == nil }

// grads returns the gradient slices of the last run, in parameter order.
func (s *stepper) grads() ([][]float32, error) {
	if s.grad != nil {
		for i, n := range s.grad {
			v := n.Value()
			if v == nil {
				return nil, fmt.Errorf("no gradient for %s: its node %s has no value", s.nodes[i].Name(), n.Name())
			}
			d, ok := v.Data().([]float32)
			if !ok {
				return nil, fmt.Errorf("gradient of %s is %T, not float32", s.nodes[i].Name(), v.Data())
			}
			s.gbuf[i] = d
		}
		return s.gbuf, nil
	}
	for i, n := range s.nodes {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("no gradient for %s: %w", n.Name(), err)
		}
		s.gbuf[i] = gv.Data().([]float32)
	}
	return s.gbuf, nil
}

// close frees the machine and drops the graph's parameter nodes, so a
// model trained by several Fit calls does not keep their graphs alive.
func (s *stepper) close() {
	s.vm.Close()
	s.ps.Forget(s.g)
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
