package eval

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func filled(n, size int, v float32) []float32 {
	x := make([]float32, n*size)
	for i := range x {
		x[i] = v
	}
	return x
}

func TestGridImageGreyDimsAndPixels(t *testing.T) {
	const h, w, scale, cols = 3, 2, 2, 4
	white := filled(5, h*w, 1)
	black := filled(2, h*w, 0)
	img, err := GridImage([][]float32{white, black}, 1, h, w, cols, scale)
	require.NoError(t, err)
	// 5 images at 4 per row = 2 rows, plus 1 row for the black group.
	cw, ch := w*scale, h*scale
	assert.Equal(t, image.Rect(0, 0, cols*cw+cols+1, 3*ch+3+1), img.Bounds())

	g, ok := img.(*image.Gray)
	require.True(t, ok, "1 channel gives a grey image")
	assert.Equal(t, uint8(255), g.GrayAt(1, 1).Y, "white image renders 255")
	assert.Equal(t, uint8(255), g.GrayAt(cw, ch).Y, "last pixel of the first cell")
	assert.Equal(t, uint8(separatorGrey), g.GrayAt(0, 0).Y, "frame")
	assert.Equal(t, uint8(separatorGrey), g.GrayAt(1+cw, 1).Y, "separator between cells")
	// Second row of the white group: only its first image is drawn.
	y1 := 1 + (ch + 1)
	assert.Equal(t, uint8(255), g.GrayAt(1, y1).Y)
	assert.Equal(t, uint8(separatorGrey), g.GrayAt(1+cw+1, y1).Y, "empty cell keeps the background")
	// Black group on the third row.
	y2 := 1 + 2*(ch+1)
	assert.Equal(t, uint8(0), g.GrayAt(1, y2).Y)
	assert.Equal(t, uint8(0), g.GrayAt(1+cw+1, y2).Y)
}

func TestGridImagePixelMapping(t *testing.T) {
	// One 2×2 image with distinct values, upscaled 3×: each source pixel
	// becomes a 3×3 block; values are clamped and rounded.
	im := []float32{0, 0.5, 1.7, float32(math.NaN())}
	img, err := GridImage([][]float32{im}, 1, 2, 2, 1, 3)
	require.NoError(t, err)
	g := img.(*image.Gray)
	want := [2][2]uint8{{0, 128}, {255, 0}}
	for py := range 2 {
		for px := range 2 {
			for dy := range 3 {
				for dx := range 3 {
					assert.Equal(t, want[py][px], g.GrayAt(1+px*3+dx, 1+py*3+dy).Y, "pixel (%d,%d)", px, py)
				}
			}
		}
	}
	// -0.3 clamps to 0.
	img, err = GridImage([][]float32{{-0.3}}, 1, 1, 1, 1, 1)
	require.NoError(t, err)
	assert.Equal(t, uint8(0), img.(*image.Gray).GrayAt(1, 1).Y)
}

func TestGridImageRGB(t *testing.T) {
	// C×H×W layout: channel planes one after another.
	const h, w = 1, 2
	im := []float32{
		1, 0, // R plane
		0, 1, // G plane
		0, 0.2, // B plane
	}
	img, err := GridImage([][]float32{im}, 3, h, w, 1, 1)
	require.NoError(t, err)
	rgba, ok := img.(*image.RGBA)
	require.True(t, ok)
	assert.Equal(t, color.RGBA{255, 0, 0, 255}, rgba.RGBAAt(1, 1))
	assert.Equal(t, color.RGBA{0, 255, 51, 255}, rgba.RGBAAt(2, 1))
	assert.Equal(t, color.RGBA{separatorGrey, separatorGrey, separatorGrey, 255}, rgba.RGBAAt(0, 0))
}

func TestGridImageErrors(t *testing.T) {
	ok := filled(1, 4, 0.5)
	tests := []struct {
		name          string
		rows          [][]float32
		c, h, w, cols int
		scale         int
		want          string
	}{
		{"two channels", [][]float32{filled(1, 8, 0)}, 2, 2, 2, 1, 1, "channels"},
		{"zero cols", [][]float32{ok}, 1, 2, 2, 0, 1, "cols=0"},
		{"zero scale", [][]float32{ok}, 1, 2, 2, 1, 0, "scale=0"},
		{"ragged group", [][]float32{ok, ok[:3]}, 1, 2, 2, 1, 1, "row group 1"},
		{"nothing to draw", [][]float32{nil}, 1, 2, 2, 1, 1, "no images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GridImage(tc.rows, tc.c, tc.h, tc.w, tc.cols, tc.scale)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

func TestSavePNGRoundTrip(t *testing.T) {
	im := make([]float32, 4*5)
	for i := range im {
		im[i] = float32(i) / 19
	}
	img, err := GridImage([][]float32{im}, 1, 4, 5, 1, 1)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "sub", "dir", "grid.png")
	require.NoError(t, SavePNG(path, img))
	back := decodePNG(t, path)
	require.Equal(t, img.Bounds(), back.Bounds())
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r1, g1, b1, _ := img.At(x, y).RGBA()
			r2, g2, b2, _ := back.At(x, y).RGBA()
			require.Equal(t, [3]uint32{r1, g1, b1}, [3]uint32{r2, g2, b2}, "pixel (%d,%d)", x, y)
		}
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1)

	err = SavePNG(filepath.Join(path, "under-a-file.png"), img)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "under-a-file.png")
}

// Offsets of the grid inside a labelled picture: the title margin (7 pixels
// per character of the longest title, padded) and the header strip.
func labelMargin(longest string) int { return 7*len(longest) + 2*labelPad }

const headerStrip = 13 + 2*labelPad

// inked reports whether any pixel of r is darker than the label background.
func inked(img image.Image, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 200 {
				return true
			}
		}
	}
	return false
}

func TestLabelledGridTitles(t *testing.T) {
	const h, w, scale = 4, 4, 5 // 20-pixel cells
	rows := []GridRow{
		{Title: "input", Images: filled(3, h*w, 1)},
		{Title: "", Images: filled(3, h*w, 1)},
		{Title: "PCA", Images: filled(3, h*w, 0)},
	}
	for _, tc := range []struct {
		name   string
		header string
		top    int
	}{{"no header", "", 0}, {"header", "what the rows are", headerStrip}} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := LabelledGrid(tc.header, rows, 1, h, w, 3, scale)
			require.NoError(t, err)
			left := labelMargin("input")
			cell := h * scale
			wide := max(left+3*cell+4, 7*len(tc.header)+2*labelPad)
			assert.Equal(t, image.Rect(0, 0, wide, tc.top+3*cell+4), img.Bounds())
			for i, r := range rows {
				y0 := tc.top + 1 + i*(cell+1)
				area := image.Rect(0, y0, left, y0+cell)
				assert.Equal(t, r.Title != "", inked(img, area), "row %d (%q): title drawn in its margin", i, r.Title)
				// The images sit right of the margin, unchanged.
				want := uint8(255)
				if i == 2 {
					want = 0
				}
				assert.Equal(t, want, color.GrayModel.Convert(img.At(left+1+cell/2, y0+cell/2)).(color.Gray).Y, "row %d image", i)
			}
			if tc.header != "" {
				assert.True(t, inked(img, image.Rect(0, 0, img.Bounds().Dx(), headerStrip)), "header drawn")
			}
		})
	}
	// A header wider than the grid widens the picture.
	img, err := LabelledGrid("a header much wider than one small image", rows[:1], 1, h, w, 1, 1)
	require.NoError(t, err)
	assert.Equal(t, 7*len("a header much wider than one small image")+2*labelPad, img.Bounds().Dx())
	_, err = LabelledGrid("", []GridRow{{Title: "x"}}, 1, h, w, 1, 1)
	assert.ErrorContains(t, err, "no images")
}

func TestSaveReconstructionGridLayout(t *testing.T) {
	const n, h, w = 20, 28, 28
	in := filled(n, h*w, 1)
	out := filled(n, h*w, 0)
	path := filepath.Join(t.TempDir(), "recon.png")
	require.NoError(t, SaveReconstructionGrid(path, in, out, n, 1, h, w))
	img := decodePNG(t, path)
	// 10 per row, 2 row pairs = 4 rows, 28×28 upscaled 2×, right of the
	// titles and below the header.
	cell, left := 2*h, labelMargin("output")
	assert.Equal(t, left+10*cell+11, img.Bounds().Dx())
	assert.Equal(t, headerStrip+4*cell+5, img.Bounds().Dy())
	rowY := func(r int) int { return headerStrip + 1 + r*(cell+1) }
	for r, want := range []uint8{255, 0, 255, 0} { // input, output, input, output
		g := color.GrayModel.Convert(img.At(left+1+cell/2, rowY(r)+cell/2)).(color.Gray)
		assert.Equal(t, want, g.Y, "row %d", r)
		assert.True(t, inked(img, image.Rect(0, rowY(r), left, rowY(r)+cell)), "row %d has its title", r)
	}

	// Fewer than 10 images: the grid is only as wide as needed (or as the header).
	require.NoError(t, SaveReconstructionGrid(path, in, out, 3, 1, h, w))
	img = decodePNG(t, path)
	assert.Equal(t, max(left+3*cell+4, 7*len("test images and their reconstructions")+2*labelPad), img.Bounds().Dx())
	assert.Equal(t, headerStrip+2*cell+3, img.Bounds().Dy())

	err := SaveReconstructionGrid(path, in[:5], out, n, 1, h, w)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "recon.png")
}

func TestSaveDenoisingGridLayout(t *testing.T) {
	const n, h, w = 12, 28, 28
	clean := filled(n, h*w, 1)
	noisy := filled(n, h*w, 0.5)
	den := filled(n, h*w, 0)
	path := filepath.Join(t.TempDir(), "denoise.png")
	require.NoError(t, SaveDenoisingGrid(path, clean, noisy, den, n, 1, h, w))
	img := decodePNG(t, path)
	cell, left := 2*h, labelMargin("output")
	assert.Equal(t, left+10*cell+11, img.Bounds().Dx())
	assert.Equal(t, headerStrip+6*cell+7, img.Bounds().Dy(), "two chunks of three rows")
	for r, want := range []uint8{255, 128, 0, 255, 128, 0} {
		y0 := headerStrip + 1 + r*(cell+1)
		g := color.GrayModel.Convert(img.At(left+1+cell/2, y0+cell/2)).(color.Gray)
		assert.Equal(t, want, g.Y, "row %d", r)
		assert.True(t, inked(img, image.Rect(0, y0, left, y0+cell)), "row %d has its title", r)
	}
}
