package hourglass

import (
	"context"
	"errors"
	"fmt"
)

// Detector is an autoencoder anomaly detector with the semantics PyOD's
// users know: Fit trains on data taken as (mostly) normal and sets the
// threshold so that a Contamination share of it is flagged; Score
// (PyOD's decision_function) and Predict then work on new data with that
// fixed threshold, which Save stores with the model.
//
// A fitted Detector is safe for concurrent use; Fit must not run
// concurrently with other calls.
type Detector struct {
	// Config trains the model (its Percentile is replaced by
	// Contamination).
	Config Config
	// Contamination is the expected share of anomalies in the training
	// data, in (0, 0.5]; 0 is PyOD's default 0.1.
	Contamination float64

	model *Model
}

// NewDetector returns an unfitted detector.
func NewDetector(cfg Config, contamination float64) *Detector {
	return &Detector{Config: cfg, Contamination: contamination}
}

// LoadDetector loads a saved detector (any checkpoint with a threshold).
func LoadDetector(path string) (*Detector, error) {
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	if _, ok := m.Threshold(); !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrNoThreshold)
	}
	return &Detector{model: m}, nil
}

// Fit trains the detector's model on data and fits its threshold.
func (d *Detector) Fit(ctx context.Context, data *Dataset) error {
	c := d.Contamination
	if c == 0 {
		c = 0.1
	}
	if !(c > 0 && c <= 0.5) {
		return fmt.Errorf("contamination %g must be in (0, 0.5]", c)
	}
	cfg := d.Config
	cfg.Percentile = 100 * (1 - c)
	m, _, err := Train(ctx, data, cfg)
	if err != nil {
		return err
	}
	d.model = m
	return nil
}

var errUnfitted = errors.New("detector is not fitted: call Fit or LoadDetector first")

// Score returns each sample's anomaly score; higher is more anomalous.
func (d *Detector) Score(x []float32) ([]float64, error) {
	if d.model == nil {
		return nil, errUnfitted
	}
	return d.model.Score(x)
}

// Predict flags the samples scoring above the fitted threshold.
func (d *Detector) Predict(x []float32) ([]bool, error) {
	if d.model == nil {
		return nil, errUnfitted
	}
	return d.model.Predict(x)
}

// Threshold is the fitted threshold.
func (d *Detector) Threshold() (Threshold, bool) {
	if d.model == nil {
		return Threshold{}, false
	}
	return d.model.Threshold()
}

// Model is the fitted model (nil before Fit).
func (d *Detector) Model() *Model { return d.model }

// Save writes the fitted detector for LoadDetector.
func (d *Detector) Save(path string) error {
	if d.model == nil {
		return errUnfitted
	}
	return d.model.Save(path)
}
