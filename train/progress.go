package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Progress shows training as it goes: on a terminal one line redrawn in
// place (bar, running loss, samples/s, ETA of the epoch) that never grows
// wider than the terminal, elsewhere (CI logs, pipes) one plain line per
// epoch. A nil *Progress is silent.
//
// Its methods are the four calls a training loop makes: StartEpoch,
// Step after every optimizer step, EndEpoch with the epoch's figures, and
// Close when the loop returns (for any reason), which ends a bar left on
// screen so that what is printed next starts on a line of its own.
type Progress struct {
	w   io.Writer
	bar bool
	// Cols is the width to fit the bar into; 0 asks the terminal behind w
	// on every redraw (so a resized window is followed), 80 when it cannot.
	Cols int
	now  func() time.Time

	epoch, epochs, steps, batch int
	started, lastStep, lastDraw time.Time
	firstDone                   int // steps done when the epoch's clock started
	done                        int
	onScreen                    bool // a bar is drawn and its line not ended
}

// NewProgress writes to w; bar selects the redrawn terminal bar.
func NewProgress(w io.Writer, bar bool) *Progress {
	return &Progress{w: w, bar: bar, now: time.Now}
}

// StartEpoch begins epoch (of epochs) of steps optimizer steps of batch
// samples each.
func (p *Progress) StartEpoch(epoch, epochs, steps, batch int) {
	if p == nil {
		return
	}
	p.epoch, p.epochs, p.steps, p.batch = epoch, epochs, steps, batch
	p.started, p.firstDone, p.done = p.now(), -1, 0
	p.lastStep = p.started
	p.lastDraw = time.Time{}
}

// Step reports that done steps of the epoch are finished with loss the
// running mean training loss. A resumed epoch starts at done > 1; its
// speed counts only the steps taken since StartEpoch.
func (p *Progress) Step(done int, loss float64) {
	if p == nil {
		return
	}
	if p.firstDone < 0 {
		p.firstDone = done - 1
	}
	p.done, p.lastStep = done, p.now()
	if !p.bar {
		return
	}
	// At most ten redraws a second: a terminal slower than the steps
	// would otherwise hold training up.
	now := p.lastStep
	if now.Sub(p.lastDraw) < 100*time.Millisecond && done != p.steps {
		return
	}
	p.lastDraw = now
	// \r returns to the line's start; \033[K clears what a longer earlier
	// line left to the right of this one.
	fmt.Fprintf(p.w, "\r%s\033[K", p.line(loss, p.cols()))
	p.onScreen = true
}

// cols is the width available to the bar.
func (p *Progress) cols() int {
	if p.Cols > 0 {
		return p.Cols
	}
	if f, ok := p.w.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// rate is the training speed of the epoch up to its last step in samples
// per second (NaN before the clock has measured anything).
func (p *Progress) rate() float64 {
	secs := p.lastStep.Sub(p.started).Seconds()
	n := p.done - p.firstDone
	if secs <= 0 || n <= 0 {
		return math.NaN()
	}
	return float64(n*p.batch) / secs
}

// line is the bar's text in at most cols-3 columns: a character in the
// last column makes some terminals wrap, and the two before it take the
// "^C" a terminal echoes on Ctrl-C without wrapping the bar either.
func (p *Progress) line(loss float64, cols int) string {
	avail := cols - 3
	secs := p.lastStep.Sub(p.started).Seconds()
	n := p.done - p.firstDone
	eta := "ETA --:--"
	if n > 0 && secs > 0 {
		eta = "ETA " + clock(secs/float64(n)*float64(p.steps-p.done))
	}
	sps := "--/s"
	if r := p.rate(); !math.IsNaN(r) {
		sps = si(r) + "/s"
	}
	// Layouts from the fullest to the most compact; the first whose text
	// leaves a bar of at least 6 columns wins, then the bar-less ones.
	type layout struct{ head, tail string }
	full := []layout{
		{fmt.Sprintf("epoch %d/%d ", p.epoch, p.epochs),
			fmt.Sprintf(" %d/%d loss %.5g %s samples/s %s", p.done, p.steps, loss, strings.TrimSuffix(sps, "/s"), eta)},
		{fmt.Sprintf("epoch %d/%d ", p.epoch, p.epochs), fmt.Sprintf(" loss %.5g %s %s", loss, sps, eta)},
		{fmt.Sprintf("%d/%d ", p.epoch, p.epochs), fmt.Sprintf(" %.4g %s", loss, eta)},
	}
	for _, l := range full {
		if w := avail - width(l.head) - width(l.tail) - 2; w >= 6 {
			filled := w * p.done / max(p.steps, 1)
			return l.head + "[" + strings.Repeat("=", filled) + strings.Repeat(" ", w-filled) + "]" + l.tail
		}
	}
	for _, s := range []string{fmt.Sprintf("%d/%d %.4g %s", p.epoch, p.epochs, loss, eta), eta} {
		if width(s) <= avail {
			return s
		}
	}
	return ""
}

// EndEpoch replaces the bar by the epoch's summary line.
func (p *Progress) EndEpoch(st EpochStats) {
	if p == nil {
		return
	}
	if p.onScreen {
		fmt.Fprint(p.w, "\r\033[K")
		p.onScreen = false
	}
	fields := []string{fmt.Sprintf("epoch %d/%d", st.Epoch, p.epochs),
		fmt.Sprintf("train %.5f", st.TrainLoss), fmt.Sprintf("val %.5f", st.ValLoss)}
	for _, k := range sortedKeys(st.Parts) {
		fields = append(fields, fmt.Sprintf("%s %.4f", partColumn(k), st.Parts[k]))
	}
	fields = append(fields, fmt.Sprintf("lr %.2g", st.LR), fmt.Sprintf("%.1fs", st.Seconds))
	if r := p.rate(); !math.IsNaN(r) {
		fields = append(fields, si(r)+" samples/s")
	}
	if !p.bar {
		fmt.Fprintln(p.w, strings.Join(fields, "  "))
		return
	}
	// On a terminal the line breaks between fields rather than inside one.
	var line string
	for _, f := range fields {
		switch {
		case line == "":
			line = f
		case width(line)+2+width(f) <= p.cols()-1:
			line += "  " + f
		default:
			fmt.Fprintln(p.w, line)
			line = "  " + f
		}
	}
	fmt.Fprintln(p.w, line)
}

// Close ends a bar left on screen by a run that stopped inside an epoch
// (Ctrl-C, an error), so the message that follows starts on a new line.
func (p *Progress) Close() {
	if p == nil || !p.onScreen {
		return
	}
	fmt.Fprintln(p.w)
	p.onScreen = false
}

// clock formats seconds as m:ss, or h:mm:ss from an hour on.
func clock(secs float64) string {
	if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
		return "--:--"
	}
	s := int(math.Round(secs))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// si prints a rate with three significant digits and a k or M suffix.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// width is the number of terminal columns s takes (one per rune: the bar
// writes only ASCII and digits).
func width(s string) int { return utf8.RuneCountInString(s) }
