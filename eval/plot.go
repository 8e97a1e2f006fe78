package eval

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named curve of a line plot.
type Series struct {
	Name string
	X, Y []float64
}

// palette is the 10-colour "tab10" set: distinct enough for the 10 classes
// of MNIST-like datasets.
var palette = [...]color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

func paletteColor(i int) color.Color {
	n := len(palette)
	return palette[((i%n)+n)%n]
}

// SaveLinePlot draws one line per series (loss curves per epoch, ROC curves,
// ...) with a legend and saves it as PNG. Non-finite points (a diverged loss)
// are dropped rather than failing the whole plot.
func SaveLinePlot(path, title, xlabel, ylabel string, series ...Series) error {
	return SaveLinePlotWith(path, PlotOptions{Title: title, XLabel: xlabel, YLabel: ylabel}, series...)
}

// PlotOptions are the labels of a line plot and where its legend goes.
type PlotOptions struct {
	Title, XLabel, YLabel string
	// LegendTop puts the legend top right; nil chooses the corner the
	// curves leave free (bottom right for rising ROC curves).
	LegendTop *bool
}

// SaveLinePlotWith is SaveLinePlot with options.
func SaveLinePlotWith(path string, opt PlotOptions, series ...Series) error {
	title, xlabel, ylabel := opt.Title, opt.XLabel, opt.YLabel
	if len(series) == 0 {
		return fmt.Errorf("eval: line plot %s: no series given", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = !endsHigh(series)
	if opt.LegendTop != nil {
		p.Legend.Top = *opt.LegendTop
	}
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("eval: line plot %s: series %d (%q) has %d x values but %d y values", path, i, s.Name, len(s.X), len(s.Y))
		}
		xys := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			if isFinite(s.X[j]) && isFinite(s.Y[j]) {
				xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("eval: line plot %s: series %q: %w", path, s.Name, err)
		}
		l.Color = paletteColor(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
		if len(xys) == 1 {
			// A single epoch would draw nothing as a line: mark the point too.
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return fmt.Errorf("eval: line plot %s: series %q: %w", path, s.Name, err)
			}
			sc.Color = paletteColor(i)
			p.Add(sc)
		}
	}
	return savePlot(path, p, 6*vg.Inch, 4*vg.Inch)
}

// endsHigh reports whether the series end in the upper half of their range,
// as ROC curves do, so that the legend goes to the bottom right instead of
// covering them; falling loss curves keep it at the top.
func endsHigh(series []Series) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	var last, n float64
	for _, s := range series {
		for j, y := range s.Y {
			if !isFinite(y) {
				continue
			}
			lo, hi = math.Min(lo, y), math.Max(hi, y)
			if j >= len(s.Y)*7/10 {
				last += y
				n++
			}
		}
	}
	return n > 0 && last/n > (lo+hi)/2
}

// SaveScatter draws n points (xy is n×2, e.g. a 2-D latent space or PCA
// projection) coloured by label, with a legend of class names, and saves it
// as PNG. labels nil draws everything in one colour; classNames may be nil or
// shorter than the label range (missing names show the label number).
func SaveScatter(path, title string, xy []float32, labels []int, classNames []string) error {
	if len(xy)%2 != 0 || len(xy) == 0 {
		return fmt.Errorf("eval: scatter plot %s: xy has %d values, want a non-empty n×2 array", path, len(xy))
	}
	n := len(xy) / 2
	if labels != nil && len(labels) != n {
		return fmt.Errorf("eval: scatter plot %s: %d labels for %d points", path, len(labels), n)
	}
	groups := map[int]plotter.XYs{}
	var order []int
	for i := range n {
		x, y := float64(xy[2*i]), float64(xy[2*i+1])
		if !isFinite(x) || !isFinite(y) {
			continue
		}
		lbl := 0
		if labels != nil {
			lbl = labels[i]
		}
		if _, ok := groups[lbl]; !ok {
			order = append(order, lbl)
		}
		groups[lbl] = append(groups[lbl], plotter.XY{X: x, Y: y})
	}
	if len(order) == 0 {
		return fmt.Errorf("eval: scatter plot %s: all %d points are NaN or Inf", path, n)
	}
	slices.Sort(order)

	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "dim 0"
	p.Y.Label.Text = "dim 1"
	p.Legend.Top = true
	for _, lbl := range order {
		sc, err := plotter.NewScatter(groups[lbl])
		if err != nil {
			return fmt.Errorf("eval: scatter plot %s: label %d: %w", path, lbl, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: paletteColor(lbl), Radius: vg.Points(1.2), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		if labels != nil {
			name := strconv.Itoa(lbl)
			if lbl >= 0 && lbl < len(classNames) && classNames[lbl] != "" {
				name = classNames[lbl]
			}
			// A bigger glyph in the legend than on the plot keeps colours readable.
			p.Legend.Add(name, legendGlyph{draw.GlyphStyle{Color: paletteColor(lbl), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}})
		}
	}
	if labels != nil {
		// Widen the x range so the legend in the top-right corner sits
		// beside the points instead of over them.
		p.X.Max += 0.3 * (p.X.Max - p.X.Min)
	}
	return savePlot(path, p, 7*vg.Inch, 6*vg.Inch)
}

type legendGlyph struct{ style draw.GlyphStyle }

func (g legendGlyph) Thumbnail(c *draw.Canvas) { c.DrawGlyph(g.style, c.Center()) }

func savePlot(path string, p *plot.Plot, w, h vg.Length) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("eval: render plot %s: %w", path, err)
	}
	return atomicWrite(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// HistogramGroup is one set of values of a histogram plot, drawn in its
// own colour (normal and anomalous rows, say).
type HistogramGroup struct {
	Name   string
	Counts []int
}

// SaveHistogram draws the groups' counts over the shared bin edges as
// outlined bars side by side within each bin, with a dashed vertical line
// at marker (the anomaly threshold) when it is finite, and saves it as PNG.
func SaveHistogram(path, title, xlabel string, edges []float64, marker float64, markerName string, groups ...HistogramGroup) error {
	if len(groups) == 0 || len(edges) < 2 {
		return fmt.Errorf("eval: histogram %s: want at least one group and two bin edges", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "rows"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	bins := len(edges) - 1
	top := 0
	for gi, g := range groups {
		if len(g.Counts) != bins {
			return fmt.Errorf("eval: histogram %s: group %q has %d counts for %d bins", path, g.Name, len(g.Counts), bins)
		}
		// Each bin is split between the groups, so no bar hides another.
		var bars plotter.XYs
		for b, c := range g.Counts {
			w := (edges[b+1] - edges[b]) / float64(len(groups))
			x0 := edges[b] + float64(gi)*w
			bars = append(bars, plotter.XY{X: x0, Y: 0}, plotter.XY{X: x0, Y: float64(c)},
				plotter.XY{X: x0 + w, Y: float64(c)}, plotter.XY{X: x0 + w, Y: 0})
			top = max(top, c)
		}
		poly, err := plotter.NewPolygon(bars)
		if err != nil {
			return fmt.Errorf("eval: histogram %s: %w", path, err)
		}
		col := palette[gi%len(palette)]
		poly.Color = color.NRGBA{R: col.R, G: col.G, B: col.B, A: 150}
		poly.LineStyle.Color = col
		poly.LineStyle.Width = vg.Points(0.5)
		p.Add(poly)
		if g.Name != "" {
			p.Legend.Add(fmt.Sprintf("%s (%d)", g.Name, sum(g.Counts)), poly)
		}
	}
	if isFinite(marker) {
		l, err := plotter.NewLine(plotter.XYs{{X: marker, Y: 0}, {X: marker, Y: float64(max(top, 1)) * 1.05}})
		if err != nil {
			return fmt.Errorf("eval: histogram %s: %w", path, err)
		}
		l.Color = color.RGBA{200, 0, 0, 255}
		l.Width = vg.Points(1.5)
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		if markerName != "" {
			p.Legend.Add(markerName, l)
		}
	}
	return savePlot(path, p, 6*vg.Inch, 4*vg.Inch)
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
