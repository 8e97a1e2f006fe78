package evalcli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/apps"
	"github.com/hourglass-ml/hourglass/dataset"
)

// streamChunk is how many rows are scored at once when streaming: memory is
// this many rows plus the model, whatever the shards' total size.
const streamChunk = 4096

// streamTasks are the tasks a sharded source supports: they need one pass
// over the rows and nothing fitted on them.
var streamTasks = map[string]bool{"anomaly": true, "all": true}

// evaluateStream scores a sharded source (dataset.IsShardSource: a glob, a
// .npy file or a directory of shards) without loading it: every shard is
// read row by row in name and file order, rows are scored a chunk at a time
// by the checkpoint's model and flagged with its stored threshold (or
// -threshold), and scores.csv grows as they come — written to a temporary
// file renamed into place at the end, so a bad shard or an interrupt leaves
// no partial scores.csv. What needs all rows at once (PCA, kNN, a threshold
// fitted on the scored data, labelled figures) is refused with the reason.
func evaluateStream(ctx context.Context, o *options, log io.Writer) (*summary, error) {
	if !streamTasks[o.task] {
		return nil, fmt.Errorf("-data %s names shards, which are scored streaming: task %s needs the data in memory; use -task anomaly here, or point -data at one file", o.data, o.task)
	}
	if opt := o.anomalyOptions(); opt.Labelled() {
		return nil, fmt.Errorf("-data %s names shards, whose labels are not read when streaming: -normal-class and -anomaly-label need one labelled file", o.data)
	}
	for _, f := range []string{"contamination", "normal", "percentile", "score"} {
		if o.given[f] {
			return nil, fmt.Errorf("-data %s names shards, scored streaming with the checkpoint's stored threshold: -%s needs the scores of all rows at once; give -threshold instead, or point -data at one file", o.data, f)
		}
	}
	if o.labelColumn != "" || o.comma != 0 {
		return nil, fmt.Errorf("-data %s names shards: -label-column and -delimiter apply to one CSV file (shards follow the CSV loader's defaults)", o.data)
	}
	m, err := hourglass.Load(o.checkpoint)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	t, ok := m.Threshold()
	from := fmt.Sprintf("stored in %s (percentile %g of %d training rows)", o.checkpoint, t.Percentile, t.N)
	if o.given["threshold"] {
		t, ok, from = hourglass.Threshold{Value: o.threshold, Score: m.ScoreName()}, true, "-threshold"
	}
	if !ok {
		return nil, fmt.Errorf("no threshold: %s stores none; give -threshold to flag the rows of %s", o.checkpoint, o.data)
	}
	st, err := dataset.OpenStream(o.data, dataset.StreamOptions{BatchSize: 1, NoShuffle: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if st.Dim() != m.InputDim() {
		return nil, fmt.Errorf("checkpoint %s: the model takes %d values a row, the shards of %s hold %d", o.checkpoint, m.InputDim(), o.data, st.Dim())
	}
	fmt.Fprintf(log, "eval: scoring %d rows of %d shards of %s streaming, %d rows at a time\n", st.Len(), len(st.Shards()), o.data, streamChunk)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	if t.Score != "" && t.Score != m.ScoreName() {
		return nil, fmt.Errorf("the threshold %s is on the %s score, but the model scores by %s; give -threshold on the %s score", from, t.Score, m.ScoreName(), m.ScoreName())
	}
	r, err := scoreStream(ctx, m, st, t.Value, filepath.Join(o.out, "scores.csv"))
	if err != nil {
		return nil, err
	}
	r.Values["data"] = o.data
	r.Values["threshold_from"] = from
	return &summary{o: o, kind: m.Spec().Kind, results: []*apps.Result{r}}, nil
}

// scoreStream writes index,score,anomaly for every row of st to path and
// returns the figures: n, flagged, their share, and the scores' mean and
// maximum.
func scoreStream(ctx context.Context, m *hourglass.Model, st *dataset.Stream, threshold float64, path string) (_ *apps.Result, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".scores-*.csv")
	if err != nil {
		return nil, fmt.Errorf("writing scores: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	col := "recon_error" // scores.csv's column names, as apps.Anomaly writes them
	if m.ScoreName() == "elbo" {
		col = "neg_elbo"
	}
	fmt.Fprintf(w, "index,%s,anomaly\n", col)
	dim := st.Dim()
	chunk := make([]float32, 0, streamChunk*dim)
	var n, flagged int
	var sum float64
	maxScore := math.Inf(-1)
	var line []byte
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		scores, err := m.Score(chunk)
		if err != nil {
			return fmt.Errorf("rows %d to %d: %w", n, n+len(chunk)/dim-1, err)
		}
		for _, s := range scores {
			flag := byte('0')
			if s > threshold {
				flag, flagged = '1', flagged+1
			}
			line = strconv.AppendInt(line[:0], int64(n), 10)
			line = strconv.AppendFloat(append(line, ','), s, 'g', 8, 64)
			line = append(line, ',', flag, '\n')
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("writing scores: %w", err)
			}
			sum, maxScore, n = sum+s, max(maxScore, s), n+1
		}
		chunk = chunk[:0]
		return nil
	}
	if err := st.Each(func(x []float32) error {
		chunk = append(chunk, x...)
		if len(chunk) == cap(chunk) {
			return flush()
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := errors.Join(w.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("writing scores: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("writing scores: %w", err)
	}
	r := &apps.Result{Task: "anomaly", Figures: map[string]float64{
		"n": float64(n), "flagged": float64(flagged), "flagged_share": float64(flagged) / float64(max(n, 1)),
		"threshold": threshold, "score_mean": sum / float64(max(n, 1)), "score_max": maxScore,
	}, Values: map[string]any{}, Files: []string{"scores.csv"}}
	return r, nil
}
