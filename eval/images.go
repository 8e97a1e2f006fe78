package eval

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// separatorGrey is the colour of the 1px lines between grid cells: mid-grey
// stands out against both the black backgrounds of MNIST-like data and white.
const separatorGrey = 128

// maxPerRow is how many images SaveReconstructionGrid/SaveDenoisingGrid put
// side by side.
const maxPerRow = 10

// GridImage draws images into one picture. Each element of rows is a group of
// images (m*c*h*w float32, C×H×W each, values in [0,1], clamped) drawn in
// rows of at most cols images; groups are stacked top to bottom. Cells are
// upscaled by the integer factor scale and separated (and framed) by 1px
// grey lines. c must be 1 (grey) or 3 (RGB).
func GridImage(rows [][]float32, c, h, w, cols int, scale int) (image.Image, error) {
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("eval: GridImage: %d channels not supported, want 1 (grey) or 3 (RGB)", c)
	}
	if h < 1 || w < 1 || cols < 1 || scale < 1 {
		return nil, fmt.Errorf("eval: GridImage: need h, w, cols, scale >= 1, got h=%d w=%d cols=%d scale=%d", h, w, cols, scale)
	}
	size := c * h * w
	totalRows := 0
	for g, grp := range rows {
		if len(grp)%size != 0 {
			return nil, fmt.Errorf("eval: GridImage: row group %d has %d values, not a multiple of c*h*w = %d", g, len(grp), size)
		}
		m := len(grp) / size
		totalRows += (m + cols - 1) / cols
	}
	if totalRows == 0 {
		return nil, fmt.Errorf("eval: GridImage: no images to draw (%d empty row groups)", len(rows))
	}
	cw, ch := w*scale, h*scale
	bounds := image.Rect(0, 0, cols*cw+cols+1, totalRows*ch+totalRows+1)

	var set func(x, y int, px []float32, stride int)
	var img image.Image
	if c == 1 {
		g := image.NewGray(bounds)
		for i := range g.Pix {
			g.Pix[i] = separatorGrey
		}
		set = func(x, y int, px []float32, _ int) { g.SetGray(x, y, color.Gray{Y: toByte(px[0])}) }
		img = g
	} else {
		rgba := image.NewRGBA(bounds)
		for i := range rgba.Pix {
			rgba.Pix[i] = separatorGrey
			if i%4 == 3 {
				rgba.Pix[i] = 255
			}
		}
		set = func(x, y int, px []float32, stride int) {
			rgba.SetRGBA(x, y, color.RGBA{R: toByte(px[0]), G: toByte(px[stride]), B: toByte(px[2*stride]), A: 255})
		}
		img = rgba
	}

	row := 0
	for _, grp := range rows {
		m := len(grp) / size
		for i := range m {
			r, col := row+i/cols, i%cols
			x0, y0 := 1+col*(cw+1), 1+r*(ch+1)
			im := grp[i*size : (i+1)*size]
			for y := range ch {
				for x := range cw {
					// Channel-first layout: channel ch of pixel (py,px) is at ch*h*w + py*w + px.
					set(x0+x, y0+y, im[(y/scale)*w+x/scale:], h*w)
				}
			}
		}
		row += (m + cols - 1) / cols
	}
	return img, nil
}

// toByte maps [0,1] to 0..255 with clamping; NaN renders black.
func toByte(v float32) uint8 {
	if !(v > 0) { // also catches NaN
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}

// SavePNG encodes img as PNG at path, creating parent directories. The file
// is written to a temporary name and renamed, so readers never see half an image.
func SavePNG(path string, img image.Image) error {
	return atomicWrite(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// GridRow is one group of images of a labelled grid and its title.
type GridRow struct {
	// Title is written left of the group's first line of images ("input",
	// "output", ...); empty leaves the margin blank.
	Title string
	// Images are m*c*h*w values, C×H×W each, in [0,1].
	Images []float32
}

// Text layout of labelled grids, in pixels of basicfont.Face7x13.
const (
	labelPad  = 6
	labelInk  = 0x22
	labelFill = 0xff
)

// LabelledGrid draws rows as GridImage does, with each row's title in a
// white margin on the left and header, when not empty, in a strip above:
// a reader of reconstructions.png sees which row is the input and which
// the output without a caption.
func LabelledGrid(header string, rows []GridRow, c, h, w, cols, scale int) (image.Image, error) {
	groups := make([][]float32, len(rows))
	for i, r := range rows {
		groups[i] = r.Images
	}
	grid, err := GridImage(groups, c, h, w, cols, scale)
	if err != nil {
		return nil, err
	}
	face := basicfont.Face7x13
	textW := func(s string) int { return font.MeasureString(face, s).Ceil() }
	labelW := 0
	for _, r := range rows {
		labelW = max(labelW, textW(r.Title))
	}
	if labelW > 0 {
		labelW += 2 * labelPad
	}
	lineH := face.Metrics().Height.Ceil()
	headH := 0
	if header != "" {
		headH = lineH + 2*labelPad
	}
	gb := grid.Bounds()
	width := max(labelW+gb.Dx(), textW(header)+2*labelPad)
	out := image.NewRGBA(image.Rect(0, 0, width, headH+gb.Dy()))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.Gray{Y: labelFill}), image.Point{}, draw.Src)
	draw.Draw(out, gb.Add(image.Pt(labelW, headH)), grid, gb.Min, draw.Src)
	d := font.Drawer{Dst: out, Src: image.NewUniform(color.Gray{Y: labelInk}), Face: face}
	ascent := face.Metrics().Ascent.Ceil()
	if header != "" {
		d.Dot = fixed.P(labelPad, labelPad+ascent)
		d.DrawString(header)
	}
	size, ch, line := c*h*w, h*scale, 0
	for _, r := range rows {
		if r.Title != "" {
			// Centred on the group's first line of images.
			y := headH + 1 + line*(ch+1) + (ch+ascent)/2
			d.Dot = fixed.P(labelPad, y)
			d.DrawString(r.Title)
		}
		line += (len(r.Images)/size + cols - 1) / cols
	}
	return out, nil
}

// SaveLabelledGrid draws LabelledGrid and saves it as PNG. Images up to 28
// pixels high are upscaled to about 56 so that they and their labels read
// at a glance.
func SaveLabelledGrid(path, header string, rows []GridRow, c, h, w, cols int) error {
	img, err := LabelledGrid(header, rows, c, h, w, cols, gridScale(h, w))
	if err != nil {
		return fmt.Errorf("eval: image grid %s: %w", path, err)
	}
	return SavePNG(path, img)
}

// gridScale is the integer upscaling that brings small images (28×28) to
// about 56 pixels.
func gridScale(h, w int) int { return max(1, 56/max(h, w)) }

// SaveReconstructionGrid saves n inputs and their reconstructions as a PNG:
// a row of up to 10 inputs with the matching outputs directly below, repeated
// (20 images give 2 row pairs), titled "input" and "output". Images are
// C×H×W in [0,1].
func SaveReconstructionGrid(path string, inputs, outputs []float32, n, c, h, w int) error {
	if err := saveStackedGrid(path, "test images and their reconstructions", n, c, h, w,
		[]string{"input", "output"}, inputs, outputs); err != nil {
		return fmt.Errorf("eval: reconstruction grid %s: %w", path, err)
	}
	return nil
}

// SaveDenoisingGrid saves n clean / noisy / denoised triples as a PNG: rows
// of up to 10 clean images, the noisy versions below, then the denoised
// ones, titled "input", "noisy" and "output".
func SaveDenoisingGrid(path string, clean, noisy, denoised []float32, n, c, h, w int) error {
	if err := saveStackedGrid(path, "clean test images, corrupted, and the model's output", n, c, h, w,
		[]string{"input", "noisy", "output"}, clean, noisy, denoised); err != nil {
		return fmt.Errorf("eval: denoising grid %s: %w", path, err)
	}
	return nil
}

// saveStackedGrid interleaves the sets in chunks of maxPerRow so that matching
// images sit in the same column of consecutive rows, each titled.
func saveStackedGrid(path, header string, n, c, h, w int, titles []string, sets ...[]float32) error {
	if n < 1 || c < 1 || h < 1 || w < 1 {
		return fmt.Errorf("need n, c, h, w >= 1, got n=%d c=%d h=%d w=%d", n, c, h, w)
	}
	size := c * h * w
	for i, s := range sets {
		if len(s) < n*size {
			return fmt.Errorf("image set %d has %d values, want at least n*c*h*w = %d", i, len(s), n*size)
		}
	}
	var rows []GridRow
	for start := 0; start < n; start += maxPerRow {
		end := min(n, start+maxPerRow)
		for i, s := range sets {
			rows = append(rows, GridRow{Title: titles[i], Images: s[start*size : end*size]})
		}
	}
	img, err := LabelledGrid(header, rows, c, h, w, min(n, maxPerRow), gridScale(h, w))
	if err != nil {
		return err
	}
	return SavePNG(path, img)
}

// atomicWrite writes via a temporary file in the target directory and renames
// it into place, creating the directory if needed.
func atomicWrite(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval: create directory for %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("eval: create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("eval: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: close %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("eval: chmod %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("eval: rename into %s: %w", path, err)
	}
	return nil
}
