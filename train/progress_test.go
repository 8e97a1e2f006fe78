package train

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
)

// fakeClock advances by step on every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Unix(0, 0)
	return func() time.Time { t = t.Add(step); return t }
}

// redraws splits terminal output into what each redraw leaves on screen.
func redraws(out string) []string {
	var lines []string
	for _, part := range strings.Split(out, "\r") {
		part = strings.ReplaceAll(part, "\033[K", "")
		if part != "" {
			lines = append(lines, part)
		}
	}
	return lines
}

func TestProgressBarFitsTerminal(t *testing.T) {
	for _, tc := range []struct {
		cols     int
		wantText []string
	}{
		{120, []string{"epoch 3/20 [", "samples/s", "ETA ", "loss 0.25 "}},
		{80, []string{"epoch 3/20 [", "/s", "ETA "}},
		{50, []string{"epoch 3/20 [", "loss 0.25 ", "/s", "ETA "}},
		{30, []string{"3/20 [", "ETA "}},
		{20, []string{"ETA "}},
	} {
		var b bytes.Buffer
		p := NewProgress(&b, true)
		p.Cols, p.now = tc.cols, fakeClock(150*time.Millisecond)
		p.StartEpoch(3, 20, 844, 64)
		for i := 1; i <= 844; i++ {
			p.Step(i, 0.25)
		}
		out := b.String()
		assert.NotContains(t, out, "\n", "%d cols: the bar stays on one line until the epoch ends", tc.cols)
		lines := redraws(out)
		require.NotEmpty(t, lines)
		for _, l := range lines {
			assert.LessOrEqual(t, utf8.RuneCountInString(l), tc.cols-3, "%d cols: %q", tc.cols, l)
		}
		// Each redraw clears what a longer earlier line left behind.
		assert.Equal(t, strings.Count(out, "\r"), strings.Count(out, "\033[K"))
		last := lines[len(lines)-1]
		for _, w := range tc.wantText {
			assert.Contains(t, last, w, "%d cols", tc.cols)
		}
		assert.Contains(t, last, "ETA 0:00", "%d cols: nothing is left at the last step", tc.cols)
		if tc.cols >= 50 {
			// 64 samples per 150 ms step.
			assert.Regexp(t, `427( samples)?/s`, last)
			assert.Contains(t, lines[0], "ETA 2:06", "843 steps of 150 ms left after the first")
		}
	}
}

func TestProgressThrottlesRedraws(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p.Cols, p.now = 80, fakeClock(time.Millisecond)
	p.StartEpoch(1, 1, 1000, 8)
	for i := 1; i <= 1000; i++ {
		p.Step(i, 1)
	}
	// One clock reading per step: steps 1, 101, ..., 901 and the last.
	assert.Len(t, redraws(b.String()), 11)
}

func TestProgressPlainOneLinePerEpoch(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.now = fakeClock(10 * time.Millisecond)
	for e := 1; e <= 3; e++ {
		p.StartEpoch(e, 3, 100, 32)
		for i := 1; i <= 100; i++ {
			p.Step(i, 0.5)
		}
		p.EndEpoch(EpochStats{Epoch: e, TrainLoss: 0.5, ValLoss: 0.4, LR: 1e-3, Seconds: 1.5, Parts: map[string]float64{"kl": 3, "recon": 7}})
	}
	p.Close()
	out := b.String()
	assert.NotContains(t, out, "\r")
	assert.NotContains(t, out, "\033")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "epoch 2/3  train 0.50000  val 0.40000  val_kl 3.0000  val_recon 7.0000  lr 0.001  1.5s  3.2k samples/s", lines[1])
}

func TestProgressCloseEndsBarLine(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p.Cols, p.now = 50, fakeClock(time.Second)
	p.StartEpoch(1, 2, 10, 4)
	p.Step(1, 2)
	p.Close()
	assert.True(t, strings.HasSuffix(b.String(), "\n"), "an interrupted bar ends its line: %q", b.String())
	n := b.Len()
	p.Close()
	assert.Equal(t, n, b.Len(), "a second Close writes nothing")
	var nilP *Progress
	assert.NotPanics(t, func() { nilP.StartEpoch(1, 1, 1, 1); nilP.Step(1, 1); nilP.EndEpoch(EpochStats{}); nilP.Close() })
}

func TestMetricsValPrefix(t *testing.T) {
	st := EpochStats{Epoch: 2, Step: 20, LR: 1e-3, TrainLoss: 110, ValLoss: 100, Seconds: 1,
		Parts: map[string]float64{"kl": 12.5, "recon": 87.5}}
	b, err := json.Marshal(st)
	require.NoError(t, err)
	assert.JSONEq(t, `{"epoch":2,"step":20,"lr":0.001,"train_loss":110,"val_loss":100,"val_kl":12.5,"val_recon":87.5,"seconds":1}`, string(b))

	dir := t.TempDir()
	require.NoError(t, writeCSV(filepath.Join(dir, "m.csv"), []EpochStats{st}))
	csv, err := os.ReadFile(filepath.Join(dir, "m.csv"))
	require.NoError(t, err)
	assert.Equal(t, "epoch,step,lr,train_loss,val_loss,val_kl,val_recon,seconds\n2,20,0.001,110,100,12.5,87.5,1\n", string(csv))

	for _, tc := range []struct{ name, line string }{
		{"prefixed", string(b)},
		{"written before the prefix", `{"epoch":2,"step":20,"lr":0.001,"train_loss":110,"val_loss":100,"kl":12.5,"recon":87.5,"seconds":1}`},
	} {
		path := filepath.Join(dir, tc.name+".jsonl")
		require.NoError(t, os.WriteFile(path, []byte(tc.line+"\n"), 0o644))
		got, _, _, err := readMetrics(path)
		require.NoError(t, err, tc.name)
		require.Len(t, got, 1, tc.name)
		assert.Equal(t, st, got[0], tc.name)
	}
}

func TestLossName(t *testing.T) {
	assert.Equal(t, "MSE (per value)", LossName(specOf("deep", "mse")))
	assert.Equal(t, "BCE (nats per value)", LossName(specOf("deep", "bce")))
	assert.Equal(t, "negative ELBO (nats per image)", LossName(specOf("vae", "bce")))
}

func specOf(kind, loss string) models.Spec { return models.Spec{Kind: kind, Loss: loss} }

func TestLossSeriesShowParts(t *testing.T) {
	h := []EpochStats{
		{Epoch: 1, TrainLoss: 300, ValLoss: 280, Parts: map[string]float64{"kl": 10, "recon": 270}},
		{Epoch: 2, TrainLoss: 270, ValLoss: 260, Parts: map[string]float64{"kl": 12, "recon": 248}},
	}
	s := lossSeries(h)
	require.Len(t, s, 4)
	names := []string{s[0].Name, s[1].Name, s[2].Name, s[3].Name}
	assert.Equal(t, []string{"train", "validation", "validation KL", "validation reconstruction"}, names)
	assert.Equal(t, []float64{10, 12}, s[2].Y)
	assert.Equal(t, []float64{270, 248}, s[3].Y)
	assert.Len(t, lossSeries([]EpochStats{{Epoch: 1, TrainLoss: 1, ValLoss: 1}}), 2, "plain kinds: train and validation")
}
