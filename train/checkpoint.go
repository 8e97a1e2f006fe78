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

// LoadCheckpoint rebuilds the model stored at path and fills its weights,
// checking every tensor against the model's spec.
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
	m, err := models.New(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := &Loaded{Path: path, Model: m, Optim: map[string][]float32{}, Meta: map[string]string{}}
	for k, v := range f.Metadata {
		if !reservedMeta(k) {
			out.Meta[k] = v
		}
	}
	if s := f.Metadata[metaState]; s != "" {
		if err := json.Unmarshal([]byte(s), &out.State); err != nil {
			return nil, fmt.Errorf("%s: training state: %w", path, err)
		}
		if out.State.BestEpoch == 0 {
			out.State.BestValLoss = math.Inf(1)
		}
	}
	seen := map[string]bool{}
	for _, t := range f.Tensors {
		if k, ok := strings.CutPrefix(t.Name, optimPfx); ok {
			out.Optim[k] = t.Data
			continue
		}
		p, ok := m.Params().Get(t.Name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q is not a parameter of a %s model", path, t.Name, spec.Kind)
		}
		if !slices.Equal(p.Shape, t.Shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v but the %s model's spec needs %v", path, t.Name, t.Shape, spec.Kind, p.Shape)
		}
		copy(p.Data(), t.Data)
		seen[t.Name] = true
	}
	for _, p := range m.Params().List() {
		if !seen[p.Name] {
			return nil, fmt.Errorf("%s: parameter %q of the %s model is missing", path, p.Name, spec.Kind)
		}
	}
	return out, nil
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
