package train

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress shows training as it goes: a redrawn bar on a terminal, or one
// plain line per epoch elsewhere (CI logs, pipes). A nil *Progress is silent.
type Progress struct {
	w        io.Writer
	bar      bool
	epoch    int
	epochs   int
	batches  int
	started  time.Time
	lastDraw time.Time
}

// NewProgress writes to w; bar selects the terminal bar.
func NewProgress(w io.Writer, bar bool) *Progress { return &Progress{w: w, bar: bar} }

// StartEpoch begins an epoch of n batches.
func (p *Progress) StartEpoch(epoch, epochs, n int) {
	if p == nil {
		return
	}
	p.epoch, p.epochs, p.batches, p.started = epoch, epochs, n, time.Now()
}

// Step reports batch i done with the running mean loss.
func (p *Progress) Step(i int, loss float64) {
	if p == nil || !p.bar {
		return
	}
	if now := time.Now(); now.Sub(p.lastDraw) > 100*time.Millisecond || i == p.batches {
		p.lastDraw = now
		const width = 30
		done := width * i / max(p.batches, 1)
		fmt.Fprintf(p.w, "\repoch %d/%d [%s%s] %d/%d loss %.5f %s", p.epoch, p.epochs,
			strings.Repeat("=", done), strings.Repeat(" ", width-done), i, p.batches, loss,
			time.Since(p.started).Round(100*time.Millisecond))
	}
}

// EndEpoch prints the epoch's summary line.
func (p *Progress) EndEpoch(st EpochStats) {
	if p == nil {
		return
	}
	if p.bar {
		fmt.Fprint(p.w, "\r\033[K")
	}
	line := fmt.Sprintf("epoch %d/%d  train %.5f  val %.5f", st.Epoch, p.epochs, st.TrainLoss, st.ValLoss)
	for _, k := range sortedKeys(st.Parts) {
		line += fmt.Sprintf("  %s %.4f", k, st.Parts[k])
	}
	fmt.Fprintf(p.w, "%s  lr %.2g  %.1fs\n", line, st.LR, st.Seconds)
}
