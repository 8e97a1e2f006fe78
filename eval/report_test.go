package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	sections := []ReportSection{
		{
			Title:   "Reconstruction <test>",
			Figures: map[string]float64{"mse": 0.0123456789, "psnr_db": 21.5, "epochs": 30},
			Images:  []string{"recon.png", "plots/loss & val.png"},
			Text:    "Trained on \"Fashion-MNIST\" <b>bold</b>",
		},
		{Title: "PCA baseline", Figures: map[string]float64{"pca32_mse": 0.0152}},
		{Text: "text only"},
	}
	require.NoError(t, WriteReport(path, "Run A & B", sections))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(raw)

	assert.True(t, strings.HasPrefix(html, "<!DOCTYPE html>"))
	assert.Contains(t, html, "<title>Run A &amp; B</title>")
	assert.Contains(t, html, "<h2>Reconstruction &lt;test&gt;</h2>")
	assert.Contains(t, html, "&lt;b&gt;bold&lt;/b&gt;")
	assert.NotContains(t, html, "<b>bold</b>")
	assert.Contains(t, html, "<td>mse</td><td class=\"num\">0.0123457</td>")
	assert.Contains(t, html, "<td class=\"num\">21.5</td>")
	assert.Contains(t, html, "<td>epochs</td><td class=\"num\">30</td>")
	assert.Contains(t, html, "<td>pca32_mse</td><td class=\"num\">0.0152</td>")
	assert.Contains(t, html, `<img src="recon.png"`)
	assert.Contains(t, html, `<img src="plots/loss%20&amp;%20val.png"`)
	assert.Contains(t, html, "text only")
	// Figures are sorted by name.
	assert.Less(t, strings.Index(html, ">epochs<"), strings.Index(html, ">mse<"))
	assert.Less(t, strings.Index(html, ">mse<"), strings.Index(html, ">psnr_db<"))
	// Self-contained: no scripts or external links.
	assert.NotContains(t, html, "<script")
	assert.NotContains(t, html, "http")
}

func TestWriteReportUnsafeImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	require.NoError(t, WriteReport(path, "t", []ReportSection{{Images: []string{"javascript:alert(1)"}}}))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), `src="javascript:`)
}

func TestWriteReportBadPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := WriteReport(filepath.Join(file, "report.html"), "t", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "report.html")
}
