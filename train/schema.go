package train

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
)

// Metadata keys a checkpoint may carry beside the model spec and training
// state. They are defined here once; the commands and the root package
// read and write them only through this package.
const (
	// MetaConfig holds the run's effective config.yaml (cmd/train), which
	// -resume reads back.
	MetaConfig = "hourglass/train-config"
	// MetaScaler holds the JSON of the dataset.Scaler fitted on the
	// training split; scoring applies the same map to new data.
	MetaScaler = "scaler"
	// MetaThreshold holds the JSON of the anomaly Threshold fitted on the
	// training (normal) data.
	MetaThreshold = "threshold"
	// MetaImputer holds the JSON of the dataset.Imputer fitted on the
	// training split (train -impute): missing values of new data are
	// filled the same way, before the scaler.
	MetaImputer = "imputer"
)

// Threshold is an anomaly threshold stored with a model: a score above
// Value flags a sample.
type Threshold struct {
	Value float64 `json:"value"`
	// Score names the score it applies to: "recon" (per-sample mean
	// squared error) or "elbo" (negative ELBO, variational kinds).
	Score string `json:"score"`
	// How it was fitted: the percentile of the scores of N normal samples,
	// or the share of them flagged (Contamination).
	Percentile    float64 `json:"percentile,omitempty"`
	Contamination float64 `json:"contamination,omitempty"`
	N             int     `json:"n,omitempty"`
}

// Validate reports a threshold that cannot flag anything sensibly.
func (t Threshold) Validate() error {
	if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
		return fmt.Errorf("threshold %g is not a finite number", t.Value)
	}
	if t.Score != "recon" && t.Score != "elbo" {
		return fmt.Errorf("threshold score %q: want recon or elbo", t.Score)
	}
	return nil
}

// Scaler returns the scaler stored in the checkpoint, or nil when the
// model was trained on unscaled data.
func (l *Loaded) Scaler() (*dataset.Scaler, error) {
	js, ok := l.Meta[MetaScaler]
	if !ok {
		return nil, nil
	}
	var s dataset.Scaler
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return nil, fmt.Errorf("%s: metadata %q: %w", l.Path, MetaScaler, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: metadata %q: %w", l.Path, MetaScaler, err)
	}
	if s.Kind != "none" && len(s.A) != l.Model.Spec().InputDim() {
		return nil, fmt.Errorf("%s: metadata %q scales %d features but the model takes %d", l.Path, MetaScaler, len(s.A), l.Model.Spec().InputDim())
	}
	return &s, nil
}

// Imputer returns the imputer stored in the checkpoint, or nil when the
// model was trained without one (missing values are then an error).
func (l *Loaded) Imputer() (*dataset.Imputer, error) {
	js, ok := l.Meta[MetaImputer]
	if !ok {
		return nil, nil
	}
	var im dataset.Imputer
	if err := json.Unmarshal([]byte(js), &im); err != nil {
		return nil, fmt.Errorf("%s: metadata %q: %w", l.Path, MetaImputer, err)
	}
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("%s: metadata %q: %w", l.Path, MetaImputer, err)
	}
	if len(im.Fill) != l.Model.Spec().InputDim() {
		return nil, fmt.Errorf("%s: metadata %q fills %d features but the model takes %d", l.Path, MetaImputer, len(im.Fill), l.Model.Spec().InputDim())
	}
	return &im, nil
}

// Threshold returns the anomaly threshold stored in the checkpoint; ok is
// false when none was stored.
func (l *Loaded) Threshold() (t Threshold, ok bool, err error) {
	js, ok := l.Meta[MetaThreshold]
	if !ok {
		return Threshold{}, false, nil
	}
	if err := json.Unmarshal([]byte(js), &t); err != nil {
		return Threshold{}, false, fmt.Errorf("%s: metadata %q: %w", l.Path, MetaThreshold, err)
	}
	if err := t.Validate(); err != nil {
		return Threshold{}, false, fmt.Errorf("%s: metadata %q: %w", l.Path, MetaThreshold, err)
	}
	return t, true, nil
}

// EncodeMeta returns v as checkpoint metadata (JSON).
func EncodeMeta(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding checkpoint metadata: %w", err)
	}
	return string(b), nil
}

// SaveModel writes m's weights and spec with meta (scaler, threshold, ...)
// to path atomically, without optimizer or training state: the file to
// share for inference, a third of a training checkpoint's size with Adam.
func SaveModel(path string, m models.Model, meta map[string]string) error {
	return saveCheckpoint([]string{path}, m, nil, State{}, meta)
}
