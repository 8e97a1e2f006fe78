package train

import (
	"errors"
	"fmt"
	"path/filepath"
)

// Hook is one concern of a training run, called by Fit at fixed points.
// Early stopping, the Config.AfterStep and AfterEpoch callbacks,
// checkpoints, metrics files and progress are hooks, called in that order,
// so Fit itself is only the loop: step, validate, hand the epoch to the
// hooks. Config.Hooks run after the callbacks and before checkpoints, so
// a hook that stops the run still gets its last epoch saved.
type Hook interface {
	// EpochStart is called before an epoch's first step; steps is the
	// number of steps the epoch has.
	EpochStart(r *Run, epoch, steps int)
	// Step is called after each optimizer step with the number of steps
	// done in the epoch and their mean loss.
	Step(r *Run, epoch, done int, meanLoss float64)
	// EpochEnd is called after validation; it may stop the run with
	// r.Stop. An error ends the run.
	EpochEnd(r *Run, es EpochStats) error
}

// Run is what hooks see of a run in progress. It is owned by Fit's
// goroutine; hooks must not keep it.
type Run struct {
	Config Config
	// State is the position and best-so-far that checkpoints store.
	State *State
	// Result is what Fit will return.
	Result *Result
	// Improved says whether the epoch just ended improved the best
	// validation loss (by more than Config.MinDelta).
	Improved bool

	save func(paths []string) error
}

// Stop ends the run after the current epoch; why is reported in
// Result.Stopped and stored in the checkpoint, so a resumed run stays
// finished.
func (r *Run) Stop(why string) {
	if r.State.Stopped == "" {
		r.State.Stopped = why
		r.Result.Stopped = why
	}
}

// BaseHook has empty methods; embed it to implement only some of Hook.
type BaseHook struct{}

func (BaseHook) EpochStart(*Run, int, int)       {}
func (BaseHook) Step(*Run, int, int, float64)    {}
func (BaseHook) EpochEnd(*Run, EpochStats) error { return nil }

// hooks are the built-in hooks of cfg, in call order, around the user's.
func (cfg Config) hooks(metrics *metricsWriter) []Hook {
	hs := []Hook{earlyStopping{}, callbacks{}}
	hs = append(hs, cfg.Hooks...)
	if cfg.OutDir != "" {
		// Checkpoints before metrics: a metrics row is written only for an
		// epoch whose checkpoint (when one was due) was written.
		hs = append(hs, checkpoints{}, metricsHook{w: metrics})
	}
	if cfg.Progress != nil {
		hs = append(hs, progressHook{p: cfg.Progress})
	}
	return hs
}

// earlyStopping stops a run whose validation loss has not improved for
// Config.EarlyStop epochs.
type earlyStopping struct{ BaseHook }

func (earlyStopping) EpochEnd(r *Run, es EpochStats) error {
	st, cfg := r.State, r.Config
	if cfg.EarlyStop > 0 && st.SinceBest >= cfg.EarlyStop && es.Epoch < cfg.Epochs {
		r.Stop(fmt.Sprintf("early stopping: validation loss did not improve by more than %g for %d epochs; best %.6g at epoch %d",
			cfg.MinDelta, st.SinceBest, st.BestValLoss, st.BestEpoch))
	}
	return nil
}

// callbacks calls Config.AfterStep and Config.AfterEpoch.
type callbacks struct{ BaseHook }

func (callbacks) Step(r *Run, epoch, _ int, _ float64) {
	if r.Config.AfterStep != nil {
		r.Config.AfterStep(epoch, r.State.Step)
	}
}

func (callbacks) EpochEnd(r *Run, es EpochStats) error {
	if r.Config.AfterEpoch == nil {
		return nil
	}
	err := r.Config.AfterEpoch(es)
	if errors.Is(err, ErrStop) {
		r.Stop(fmt.Sprintf("stopped after epoch %d by a callback: %v", es.Epoch, err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("epoch %d callback: %w", es.Epoch, err)
	}
	return nil
}

// checkpoints writes the epoch and last checkpoints every SaveEvery
// epochs (and at the end or a stop), prunes old epoch checkpoints, and
// writes best whenever validation improves.
type checkpoints struct{ BaseHook }

func (checkpoints) EpochEnd(r *Run, es EpochStats) error {
	cfg, epoch := r.Config, es.Epoch
	every := max(cfg.SaveEvery, 1)
	if epoch%every == 0 || epoch == cfg.Epochs || r.State.Stopped != "" {
		last := filepath.Join(cfg.OutDir, LastName)
		if err := r.save([]string{filepath.Join(cfg.OutDir, EpochName(epoch)), last}); err != nil {
			return err
		}
		r.Result.Checkpoint = last
		if err := pruneEpochs(cfg.OutDir, cfg.Keep); err != nil {
			return err
		}
	}
	if r.Improved {
		best := filepath.Join(cfg.OutDir, BestName)
		if err := r.save([]string{best}); err != nil {
			return err
		}
		r.Result.BestCheckpoint = best
	}
	return nil
}

// metricsHook appends the epoch to metrics.jsonl and metrics.csv and
// redraws loss.png.
type metricsHook struct {
	BaseHook
	w *metricsWriter
}

func (h metricsHook) EpochEnd(r *Run, es EpochStats) error {
	return h.w.Write(es, r.Result.History)
}

// progressHook draws the progress bar or the per-epoch lines.
type progressHook struct {
	BaseHook
	p *Progress
}

func (h progressHook) EpochStart(r *Run, epoch, steps int) {
	h.p.StartEpoch(epoch, r.Config.Epochs, steps, r.Config.Batch)
}

func (h progressHook) Step(_ *Run, _, done int, meanLoss float64) { h.p.Step(done, meanLoss) }

func (h progressHook) EpochEnd(_ *Run, es EpochStats) error {
	h.p.EndEpoch(es)
	return nil
}
