package eval

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium finds a headless-capable Chromium. Without one the test skips,
// except on CI (CI set), where .ci/run installs Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed on CI: .ci/run should have installed it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium): the report is not checked in a browser")
	return ""
}

// runChromium runs headless Chromium on a file with extra flags and returns
// its standard output.
func runChromium(t *testing.T, bin, page string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return string(out)
}

// TestReportInBrowser opens a report copied away from its pictures in real
// headless Chromium: every picture must decode (naturalWidth > 0) and the
// screenshot must show the plot's colours.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	src := t.TempDir()
	grid := filepath.Join(src, "reconstructions.png")
	const n = 4
	in, outImgs := make([]float32, n*28*28), make([]float32, n*28*28)
	for i := range in {
		in[i], outImgs[i] = float32(i%28)/27, float32(i%7)/6
	}
	require.NoError(t, SaveReconstructionGrid(grid, in, outImgs, n, 1, 28, 28))
	plot := filepath.Join(src, "loss.png")
	require.NoError(t, SaveLinePlot(plot, "loss", "epoch", "MSE (per value)",
		Series{Name: "train", X: []float64{1, 2, 3}, Y: []float64{3, 2, 1.5}}))
	require.NoError(t, WriteReport(filepath.Join(src, "report.html"), Report{Title: "browser check",
		Sections: []ReportSection{{Title: "pictures", Images: []ReportImage{{Path: plot, Caption: "loss"}, {Path: grid, Caption: "grid"}}}}}))

	// The report alone, in a directory without its pictures.
	away := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(src, "report.html"))
	require.NoError(t, err)
	page := filepath.Join(away, "report.html")
	require.NoError(t, os.WriteFile(page, raw, 0o644))
	// A copy with a probe that records each picture's decoded width once
	// the page has loaded; --dump-dom prints the DOM after that.
	probe := `<script>addEventListener("load", () => document.body.setAttribute("data-widths",
		[...document.images].map(i => i.complete ? i.naturalWidth : 0).join(",")))</script></body>`
	check := filepath.Join(away, "check.html")
	require.NoError(t, os.WriteFile(check, []byte(strings.Replace(string(raw), "</body>", probe, 1)), 0o644))

	dom := runChromium(t, bin, check, "--dump-dom")
	m := regexp.MustCompile(`data-widths="([^"]*)"`).FindStringSubmatch(dom)
	require.NotNil(t, m, "the probe ran: %.300s", dom)
	widths := strings.Split(m[1], ",")
	require.Len(t, widths, 2, "both pictures are in the page")
	for i, path := range []string{plot, grid} {
		f, err := os.Open(path)
		require.NoError(t, err)
		cfg, err := png.DecodeConfig(f)
		f.Close()
		require.NoError(t, err)
		w, err := strconv.Atoi(widths[i])
		require.NoError(t, err)
		assert.Equal(t, cfg.Width, w, "picture %d (%s) decoded at its own width", i, filepath.Base(path))
	}

	shot := filepath.Join(away, "shot.png")
	runChromium(t, bin, page, "--window-size=1000,1200", "--screenshot="+shot)
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	// The train curve is drawn in tab10 blue (31,119,180); only the
	// embedded plot can put that colour on screen.
	assert.Greater(t, countNear(img, 31, 119, 180), 100, "the loss plot shows in the screenshot")
}

func countNear(img image.Image, r, g, b int) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if abs(int(pr>>8)-r) < 12 && abs(int(pg>>8)-g) < 12 && abs(int(pb>>8)-b) < 12 {
				n++
			}
		}
	}
	return n
}

func abs(x int) int { return max(x, -x) }
