package train

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/hourglass-ml/hourglass/checkpoint"
	"github.com/hourglass-ml/hourglass/models"
)

// Metadata keys of an hourglass checkpoint.
const (
	metaFormat = "format"
	metaSpec   = "spec"
	metaState  = "state"
	formatV1   = "hourglass/1"
	optimPfx   = "optim/"
)

// State is the training position stored beside the weights: with the
// seed it fixes every later random draw (noise comes from (seed, step),
// batch order from (seed, epoch)), so a run resumed from it continues
// exactly as the unbroken run would have.
type State struct {
	// Epoch is the number of finished epochs.
	Epoch int `json:"epoch"`
	// Step is the number of optimizer steps taken.
	Step int `json:"step"`
	// Pos is the number of batches of epoch Epoch+1 already trained (a run
	// interrupted mid-epoch); PosLoss is the sum of their losses, so the
	// epoch's mean train loss comes out as in an unbroken run.
	Pos     int     `json:"pos,omitempty"`
	PosLoss float64 `json:"pos_loss,omitempty"`
	Seed    uint64  `json:"seed"`
	// LR is the learning rate of the last step.
	LR    float64 `json:"lr"`
	Batch int     `json:"batch"`
	// TrainN is the number of training samples (the batch order depends on it).
	TrainN    int    `json:"train_n,omitempty"`
	Optimizer string `json:"optimizer"`
	// BestEpoch is the epoch of the best validation loss (0: none yet).
	BestEpoch   int     `json:"best_epoch"`
	BestValLoss float64 `json:"best_val_loss"`
	// SinceBest counts epochs without improvement, for early stopping.
	SinceBest int        `json:"since_best,omitempty"`
	Schedule  SchedState `json:"schedule"`
	// Stopped says why the run ended before its last epoch ("early stopping"),
	// empty otherwise.
	Stopped string `json:"stopped,omitempty"`
	// RunID names the run the checkpoint belongs to (see RunDir); empty in
	// checkpoints older than run ids and in weights-only files.
	RunID string `json:"run_id,omitempty"`
}

// SaveCheckpoint writes m's weights, the optimizer's buffers and st to path
// as one .safetensors file, atomically.
func SaveCheckpoint(path string, m models.Model, opt Optimizer, st State) error {
	return saveCheckpoint([]string{path}, m, opt, st, nil)
}

// saveCheckpoint encodes the checkpoint once and writes it atomically to
// each of paths, with meta as extra metadata.
func saveCheckpoint(paths []string, m models.Model, opt Optimizer, st State, meta map[string]string) error {
	f := &checkpoint.File{Metadata: map[string]string{}}
	for k, v := range meta {
		f.Metadata[k] = v
	}
	f.Metadata[metaFormat], f.Metadata[metaSpec] = formatV1, m.Spec().JSON()
	for _, p := range m.Params().List() {
		f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data()})
	}
	if opt != nil {
		st.Optimizer = opt.Name()
		state := opt.State()
		for _, k := range sortedKeys(state) {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: optimPfx + k, Shape: []int{len(state[k])}, Data: state[k]})
		}
	}
	if st.BestEpoch == 0 || math.IsNaN(st.BestValLoss) || math.IsInf(st.BestValLoss, 0) {
		st.BestValLoss = 0 // JSON has no infinity; BestEpoch 0 marks "none"
	}
	if !st.Schedule.BestSet {
		st.Schedule.Best = 0
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding training state: %w", err)
	}
	f.Metadata[metaState] = string(b)
	for _, path := range paths {
		if err := checkpoint.Save(path, f); err != nil {
			return fmt.Errorf("saving checkpoint: %w", err)
		}
	}
	return nil
}

// Loaded is a checkpoint read back: the rebuilt model, the training state,
// the optimizer buffers and the metadata the caller stored (Config.Meta).
type Loaded struct {
	Path  string
	Model models.Model
	State State
	Optim map[string][]float32
	Meta  map[string]string
}

// LoadCheckpoint rebuilds the model stored at path and fills its weights.
// Everything is checked before the model is built, so a hostile file costs
// at most a few times its own size: the spec's sizes are bounded
// (models.Spec.Validate), every tensor's name and shape must be one the
// spec implies (models.ParamShapes), every value must be finite, and the
// training state must hold no negative counts. Errors name path.
func LoadCheckpoint(path string) (*Loaded, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	if f.Metadata[metaFormat] != formatV1 {
		return nil, fmt.Errorf("%s: not an hourglass checkpoint (format %q, want %q)", path, f.Metadata[metaFormat], formatV1)
	}
	spec, err := models.ParseSpec(f.Metadata[metaSpec])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	weights, optim, err := checkTensors(spec, f.Tensors)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := &Loaded{Path: path, Optim: optim, Meta: map[string]string{}}
	for k, v := range f.Metadata {
		if !reservedMeta(k) {
			out.Meta[k] = v
		}
	}
	if s := f.Metadata[metaState]; s != "" {
		if err := json.Unmarshal([]byte(s), &out.State); err != nil {
			return nil, fmt.Errorf("%s: training state: %w", path, err)
		}
		if err := out.State.validate(); err != nil {
			return nil, fmt.Errorf("%s: training state: %w", path, err)
		}
		if out.State.BestEpoch == 0 {
			out.State.BestValLoss = math.Inf(1)
		}
	}
	m, err := models.New(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range m.Params().List() {
		t, ok := weights[p.Name]
		if !ok || !slices.Equal(p.Shape, t.Shape) {
			// ParamShapes and New disagree: a bug, not a bad file.
			return nil, fmt.Errorf("%s: parameter %q of the %s model does not match the shapes its spec implies; please report this", path, p.Name, spec.Kind)
		}
		copy(p.Data(), t.Data)
	}
	out.Model = m
	return out, nil
}

// checkTensors checks a checkpoint's tensors against the parameters spec
// implies: every weight present once with its shape, nothing else but
// optimizer buffers (which must fit the parameter they name), and no NaN
// or infinity anywhere. It returns the weights by name and the optimizer
// buffers by key.
func checkTensors(spec models.Spec, ts []checkpoint.Tensor) (map[string]checkpoint.Tensor, map[string][]float32, error) {
	shapes, err := models.ParamShapes(spec)
	if err != nil {
		return nil, nil, err
	}
	want := make(map[string][]int, len(shapes))
	for _, p := range shapes {
		want[p.Name] = p.Shape
	}
	weights := map[string]checkpoint.Tensor{}
	optim := map[string][]float32{}
	for _, t := range ts {
		if k, ok := strings.CutPrefix(t.Name, optimPfx); ok {
			// Keys are KIND/PARAM; a buffer for a known parameter must
			// have its size (the optimizer checks the rest on resume).
			if _, param, ok := strings.Cut(k, "/"); ok {
				if shape, known := want[param]; known && len(t.Data) != (models.ParamShape{Shape: shape}).Size() {
					return nil, nil, fmt.Errorf("optimizer tensor %q has %d values but parameter %s has shape %v", t.Name, len(t.Data), param, shape)
				}
			}
			if i := firstNonFiniteValue(t.Data); i >= 0 {
				return nil, nil, fmt.Errorf("optimizer tensor %q holds %v at index %d: the checkpoint is corrupt; resume from an earlier one", t.Name, t.Data[i], i)
			}
			optim[k] = t.Data
			continue
		}
		shape, ok := want[t.Name]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q is not a parameter of a %s model", t.Name, spec.Kind)
		}
		if !slices.Equal(shape, t.Shape) {
			return nil, nil, fmt.Errorf("tensor %q has shape %v but the %s model's spec needs %v", t.Name, t.Shape, spec.Kind, shape)
		}
		if i := firstNonFiniteValue(t.Data); i >= 0 {
			return nil, nil, fmt.Errorf("weight %q holds %v at index %d: the checkpoint is corrupt or was saved from a diverged run; use an earlier checkpoint", t.Name, t.Data[i], i)
		}
		weights[t.Name] = t
	}
	for _, p := range shapes {
		if _, ok := weights[p.Name]; !ok {
			return nil, nil, fmt.Errorf("parameter %q of the %s model is missing", p.Name, spec.Kind)
		}
	}
	return weights, optim, nil
}

// firstNonFiniteValue is the index of the first NaN or infinity in xs, or -1.
func firstNonFiniteValue(xs []float32) int {
	for i, v := range xs {
		if v-v != 0 { // NaN and ±Inf give NaN; finite values give 0
			return i
		}
	}
	return -1
}

// validate refuses counts no run can produce.
func (s State) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"epoch", s.Epoch}, {"step", s.Step}, {"pos", s.Pos}, {"batch", s.Batch}, {"train_n", s.TrainN},
		{"best_epoch", s.BestEpoch}, {"since_best", s.SinceBest}, {"schedule.bad", s.Schedule.Bad}} {
		if f.v < 0 {
			return fmt.Errorf("%s is %d, but it counts and cannot be negative: the checkpoint is corrupt", f.name, f.v)
		}
	}
	if math.IsNaN(s.PosLoss) || math.IsInf(s.PosLoss, 0) || math.IsNaN(s.LR) || math.IsInf(s.LR, 0) {
		return fmt.Errorf("pos_loss %g or lr %g is not finite: the checkpoint is corrupt", s.PosLoss, s.LR)
	}
	return nil
}

func reservedMeta(k string) bool { return k == metaFormat || k == metaSpec || k == metaState }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
