package train

import (
	"fmt"
	"math"
	"strings"
)

// Schedules lists the learning-rate schedules ScheduleConfig accepts.
func Schedules() []string { return []string{"constant", "step", "exponential", "cosine", "plateau"} }

// ScheduleConfig chooses how the learning rate moves during a run.
//
//   - constant: the base rate throughout.
//   - step: multiplied by Gamma every StepEpochs epochs (per epoch).
//   - exponential: multiplied by Gamma every epoch (per epoch).
//   - cosine: from the base rate down to MinLR along a half cosine over the
//     run's steps after warm-up (per batch).
//   - plateau: multiplied by Factor once Patience epochs pass without the
//     validation loss improving by more than MinDelta (per epoch, never
//     below MinLR).
//
// Warmup steps of linear warm-up, from base/Warmup up to the rate the
// schedule gives, apply to every schedule.
type ScheduleConfig struct {
	Name       string  `json:"name"`
	StepEpochs int     `json:"step_epochs,omitempty"`
	Gamma      float64 `json:"gamma,omitempty"`
	MinLR      float64 `json:"min_lr,omitempty"`
	Warmup     int     `json:"warmup,omitempty"`
	Factor     float64 `json:"factor,omitempty"`
	Patience   int     `json:"patience,omitempty"`
	MinDelta   float64 `json:"min_delta,omitempty"`
}

func (c ScheduleConfig) withDefaults() ScheduleConfig {
	if c.Name == "" {
		c.Name = "constant"
	}
	c.Name = strings.ToLower(c.Name)
	if c.StepEpochs == 0 {
		c.StepEpochs = 10
	}
	if c.Gamma == 0 {
		c.Gamma = 0.1
		if c.Name == "exponential" {
			c.Gamma = 0.95
		}
	}
	if c.Factor == 0 {
		c.Factor = 0.1
	}
	if c.Patience == 0 {
		c.Patience = 5
	}
	return c
}

// Validate reports the first bad field.
func (c ScheduleConfig) Validate() error {
	c = c.withDefaults()
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !contains(Schedules(), c.Name):
		return fmt.Errorf("unknown schedule %q (valid: %s)", c.Name, strings.Join(Schedules(), ", "))
	case c.StepEpochs < 0:
		return fmt.Errorf("step epochs %d must be positive", c.StepEpochs)
	case !finite(c.Gamma) || c.Gamma <= 0 || c.Gamma > 1:
		return fmt.Errorf("gamma %g must be in (0,1]", c.Gamma)
	case !finite(c.Factor) || c.Factor <= 0 || c.Factor >= 1:
		return fmt.Errorf("factor %g must be in (0,1)", c.Factor)
	case c.Patience < 0:
		return fmt.Errorf("patience %d must be positive", c.Patience)
	case c.Warmup < 0:
		return fmt.Errorf("warmup %d must be zero or more steps", c.Warmup)
	case !finite(c.MinLR) || c.MinLR < 0:
		return fmt.Errorf("minimum learning rate %g must be zero or more", c.MinLR)
	case !finite(c.MinDelta) || c.MinDelta < 0:
		return fmt.Errorf("min delta %g must be zero or more", c.MinDelta)
	}
	return nil
}

// SchedState is the part of a schedule that cannot be recomputed from the
// epoch and step: the plateau schedule's memory. It is stored in checkpoints.
type SchedState struct {
	// Scale multiplies the base rate (plateau reductions so far).
	Scale float64 `json:"scale"`
	// Best is the best validation loss seen; BestSet says whether there is one.
	Best    float64 `json:"best"`
	BestSet bool    `json:"best_set"`
	// Bad counts epochs since the last improvement.
	Bad int `json:"bad"`
}

// Scheduler gives the learning rate of every step of a run.
type Scheduler struct {
	cfg        ScheduleConfig
	base       float64
	totalSteps int
	state      SchedState
}

// NewScheduler makes the schedule c for a run of base rate base and
// totalSteps optimizer steps (cosine needs the length of the run).
func NewScheduler(c ScheduleConfig, base float64, totalSteps int) (*Scheduler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{cfg: c.withDefaults(), base: base, totalSteps: totalSteps, state: SchedState{Scale: 1}}, nil
}

// LR is the rate of global step step (0-based), which falls in epoch epoch
// (1-based).
func (s *Scheduler) LR(epoch, step int) float64 {
	c := s.cfg
	lr := s.base
	switch c.Name {
	case "step":
		lr *= math.Pow(c.Gamma, float64((epoch-1)/c.StepEpochs))
	case "exponential":
		lr *= math.Pow(c.Gamma, float64(epoch-1))
	case "cosine":
		span := s.totalSteps - c.Warmup
		p := 1.0
		if span > 0 {
			p = min(1, float64(max(step-c.Warmup, 0))/float64(span))
		}
		lr = c.MinLR + (s.base-c.MinLR)*(1+math.Cos(math.Pi*p))/2
	case "plateau":
		lr = max(lr*s.state.Scale, c.MinLR)
	}
	if step < c.Warmup {
		lr *= float64(step+1) / float64(c.Warmup)
	}
	return lr
}

// EndEpoch tells the schedule an epoch's validation loss.
func (s *Scheduler) EndEpoch(valLoss float64) {
	if s.cfg.Name != "plateau" || math.IsNaN(valLoss) {
		return
	}
	if !s.state.BestSet || valLoss < s.state.Best-s.cfg.MinDelta {
		s.state.Best, s.state.BestSet, s.state.Bad = valLoss, true, 0
		return
	}
	s.state.Bad++
	if s.state.Bad >= s.cfg.Patience {
		s.state.Scale *= s.cfg.Factor
		s.state.Bad = 0
	}
}

// State returns the schedule's memory for a checkpoint.
func (s *Scheduler) State() SchedState { return s.state }

// SetState restores State.
func (s *Scheduler) SetState(st SchedState) {
	if st.Scale == 0 {
		st.Scale = 1
	}
	s.state = st
}
