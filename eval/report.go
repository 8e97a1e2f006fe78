package eval

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Figure is one named number of a report, with what a reader needs to
// read it: a human name, the unit and one sentence of meaning.
type Figure struct {
	Key     string // the key cmd/eval prints (mse, psnr, ...)
	Name    string
	Unit    string
	Meaning string
	Value   float64
}

// ReportImage is a picture of a report: a PNG file, embedded in the page,
// and a caption saying what it shows.
type ReportImage struct {
	Path    string
	Caption string
}

// ReportTable is a table of a report section beyond its figures (the
// per-feature errors of a table's rows, say): a caption, column names and
// rows of cells already formatted.
type ReportTable struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// ReportSection is one part of the report: an introduction, a table of
// figures, further tables, pictures and notes.
type ReportSection struct {
	Title   string
	Intro   string
	Figures []Figure
	Tables  []ReportTable
	Images  []ReportImage
	Notes   []string
}

// Report is a whole page. Version and Commit are filled from the build
// when empty; Date from the clock when zero.
type Report struct {
	Title   string
	Date    time.Time
	Version string
	Commit  string
	// About are the page's header facts, in order: model, data, checkpoint.
	About [][2]string
	// Spec and Config are shown verbatim: the model spec (JSON) and the
	// effective settings of the run and of the evaluation.
	Spec, Config string
	Sections     []ReportSection
}

// BuildVersion is the module version and VCS commit of the running binary,
// "devel" for what the build does not record (go run, go test).
func BuildVersion() (version, commit string) {
	version, commit = "devel", "devel"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		}
	}
	return version, commit
}

type figureView struct{ Name, Value, Unit, Meaning, Key string }

type imageView struct {
	Src     template.URL
	Caption string
}

type sectionView struct {
	Title, Intro string
	Figures      []figureView
	Tables       []ReportTable
	Images       []imageView
	Notes        []string
}

// reportTmpl is self-contained: inline CSS, pictures as data: URIs, no
// scripts or links, so the one file can be sent and opened anywhere.
var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { border-bottom: 2px solid #ccc; padding-bottom: .3em; margin-bottom: .2em; }
p.meta { color: #555; margin-top: 0; }
h2 { margin-top: 2em; border-bottom: 1px solid #eee; }
table { border-collapse: collapse; margin: 1em 0; }
caption { text-align: left; color: #444; padding-bottom: .3em; }
th, td { border: 1px solid #ccc; padding: .3em .8em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-family: monospace, monospace; font-size: .95em; white-space: nowrap; }
td.key { font-family: monospace, monospace; color: #777; font-size: .85em; }
figure { display: inline-block; margin: .5em 1em .5em 0; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; max-width: 40em; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .85em; }
ul.notes { color: #444; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">Generated {{.Date}} by hourglass {{.Version}} (commit {{.Commit}}).</p>
{{if .About}}<table>
{{range .About}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{end}}{{range .Sections}}<section>
<h2>{{.Title}}</h2>
{{if .Intro}}<p>{{.Intro}}</p>
{{end}}{{if .Figures}}<table>
<tr><th>Figure</th><th>Value</th><th>Unit</th><th>What it means</th><th>Key</th></tr>
{{range .Figures}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td><td>{{.Unit}}</td><td>{{.Meaning}}</td><td class="key">{{.Key}}</td></tr>
{{end}}</table>
{{end}}{{range .Tables}}<table>
<caption>{{.Caption}}</caption>
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{range .Images}}<figure><img src="{{.Src}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}{{if .Notes}}<ul class="notes">
{{range .Notes}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</section>
{{end}}{{if .Spec}}<section>
<h2>Model spec</h2>
<p>The JSON stored in the checkpoint, from which the model is rebuilt.</p>
<pre>{{.Spec}}</pre>
</section>
{{end}}{{if .Config}}<section>
<h2>Settings</h2>
<p>The effective settings of the training run and of this evaluation, defaults included.</p>
<pre>{{.Config}}</pre>
</section>
{{end}}</body>
</html>
`))

// WriteReport writes r as one self-contained HTML page at path: every
// picture is read and embedded as a data: URI. All text is HTML-escaped.
func WriteReport(path string, r Report) error {
	if r.Version == "" || r.Commit == "" {
		v, c := BuildVersion()
		r.Version, r.Commit = cmp(r.Version, v), cmp(r.Commit, c)
	}
	if r.Date.IsZero() {
		r.Date = time.Now()
	}
	view := struct {
		Title, Date, Version, Commit, Spec, Config string
		About                                      [][2]string
		Sections                                   []sectionView
	}{Title: r.Title, Date: r.Date.UTC().Format("2006-01-02 15:04 UTC"), Version: r.Version, Commit: r.Commit,
		Spec: r.Spec, Config: r.Config, About: r.About}
	for _, s := range r.Sections {
		v := sectionView{Title: s.Title, Intro: s.Intro, Notes: s.Notes, Tables: s.Tables}
		for _, f := range s.Figures {
			v.Figures = append(v.Figures, figureView{Name: f.Name, Value: formatFigure(f.Value), Unit: f.Unit, Meaning: f.Meaning, Key: f.Key})
		}
		for _, img := range s.Images {
			src, err := dataURI(img.Path)
			if err != nil {
				return fmt.Errorf("eval: report %s: %w", path, err)
			}
			v.Images = append(v.Images, imageView{Src: src, Caption: img.Caption})
		}
		view.Sections = append(view.Sections, v)
	}
	if err := atomicWrite(path, func(w io.Writer) error { return reportTmpl.Execute(w, view) }); err != nil {
		return fmt.Errorf("eval: write report: %w", err)
	}
	return nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dataURI is the picture at path as a data: URI. Only PNG files (checked by
// their signature) are embedded, so the URI cannot carry anything else.
func dataURI(path string) (template.URL, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("embedding picture %s: %w", filepath.Base(path), err)
	}
	if !strings.HasPrefix(string(b), "\x89PNG\r\n\x1a\n") {
		return "", fmt.Errorf("embedding picture %s: not a PNG file", filepath.Base(path))
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b)), nil
}

// formatFigure prints 6 significant digits: enough for MSE/PSNR/accuracy,
// short enough for a table; integers (counts, epochs) stay integers.
func formatFigure(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
