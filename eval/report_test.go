package eval

import (
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPNG writes a w×h picture to dir/name.
func testPNG(t *testing.T, dir, name string, w, h int) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	path := filepath.Join(dir, name)
	require.NoError(t, SavePNG(path, img))
	return path
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	recon := testPNG(t, dir, "recon.png", 30, 20)
	loss := testPNG(t, dir, "loss & val.png", 10, 10)
	path := filepath.Join(dir, "report.html")
	rep := Report{
		Title:   "Run A & B",
		Date:    time.Date(2026, 12, 2, 3, 4, 0, 0, time.UTC),
		Version: "v0.3.0", Commit: "abc123",
		About:  [][2]string{{"Model", "deep <autoencoder>"}},
		Spec:   `{"kind":"deep"}`,
		Config: "epochs: 20\nlr: 0.001\n",
		Sections: []ReportSection{
			{
				Title: "Reconstruction <test>",
				Intro: "How well <b>it</b> works.",
				Figures: []Figure{
					{Key: "mse", Name: "Mean squared error", Unit: "per value (MSE)", Meaning: "Lower is better.", Value: 0.0123456789},
					{Key: "epochs", Name: "Epochs", Unit: "count", Value: 30},
				},
				Images: []ReportImage{{Path: recon, Caption: "inputs above outputs"}, {Path: loss, Caption: "loss per epoch"}},
				Notes:  []string{"a note"},
			},
		},
	}
	require.NoError(t, WriteReport(path, rep))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(raw)

	for _, want := range []string{
		"<title>Run A &amp; B</title>",
		"Generated 2026-12-02 03:04 UTC by hourglass v0.3.0 (commit abc123).",
		"<h2>Reconstruction &lt;test&gt;</h2>",
		"How well &lt;b&gt;it&lt;/b&gt; works.",
		"<th>Model</th><td>deep &lt;autoencoder&gt;</td>",
		`<tr><td>Mean squared error</td><td class="num">0.0123457</td><td>per value (MSE)</td><td>Lower is better.</td><td class="key">mse</td></tr>`,
		`<td class="num">30</td>`,
		"<figcaption>inputs above outputs</figcaption>",
		"<li>a note</li>",
		"{&#34;kind&#34;:&#34;deep&#34;}",
		"epochs: 20\nlr: 0.001",
	} {
		assert.Contains(t, html, want)
	}
	// Both pictures are embedded; nothing refers to a file or the network.
	srcs := regexp.MustCompile(`<img src="([^"]*)"`).FindAllStringSubmatch(html, -1)
	require.Len(t, srcs, 2)
	for _, s := range srcs {
		assert.True(t, strings.HasPrefix(s[1], "data:image/png;base64,"), "src %.40s", s[1])
	}
	assert.NotContains(t, html, dir, "no path of this machine")
	assert.NotContains(t, html, "<script")
	assert.NotContains(t, html, "http")
}

func TestWriteReportBuildVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	require.NoError(t, WriteReport(path, Report{Title: "t"}))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	v, c := BuildVersion()
	assert.Contains(t, string(raw), "by hourglass "+v+" (commit "+c+")")
	assert.Regexp(t, `Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC`, string(raw))
	// A test binary records no VCS revision.
	assert.Equal(t, "devel", c)
}

func TestWriteReportBadImages(t *testing.T) {
	dir := t.TempDir()
	notPNG := filepath.Join(dir, "x.png")
	require.NoError(t, os.WriteFile(notPNG, []byte("<svg onload=alert(1)>"), 0o644))
	for _, tc := range []struct{ name, img, want string }{
		{"missing", filepath.Join(dir, "missing.png"), "missing.png"},
		{"not a PNG", notPNG, "not a PNG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "r.html")
			err := WriteReport(path, Report{Sections: []ReportSection{{Images: []ReportImage{{Path: tc.img}}}}})
			assert.ErrorContains(t, err, tc.want)
			assert.NoFileExists(t, path)
		})
	}
}

func TestWriteReportBadPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := WriteReport(filepath.Join(file, "report.html"), Report{Title: "t"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "report.html")
}
