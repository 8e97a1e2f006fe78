package eval

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
)

// ReportSection is one part of the HTML report: a table of named figures
// (shown sorted by name), images given as paths relative to the report, and
// free text.
type ReportSection struct {
	Title   string
	Figures map[string]float64
	Images  []string
	Text    string
}

type reportFigure struct{ Name, Value string }

type reportImage struct{ Src, Caption string }

type reportSectionView struct {
	Title   string
	Figures []reportFigure
	Images  []reportImage
	Text    string
}

// reportTmpl is self-contained (inline CSS, no scripts or external assets) so
// the report can be opened from disk or attached anywhere.
var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #ccc; padding-bottom: .3em; }
h2 { margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .8em; text-align: left; }
td.num { text-align: right; font-family: monospace; }
figure { display: inline-block; margin: .5em; vertical-align: top; }
figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #555; text-align: center; }
p.text { white-space: pre-wrap; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Sections}}<section>
{{if .Title}}<h2>{{.Title}}</h2>
{{end}}{{if .Text}}<p class="text">{{.Text}}</p>
{{end}}{{if .Figures}}<table>
<tr><th>Figure</th><th>Value</th></tr>
{{range .Figures}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{range .Images}}<figure><img src="{{.Src}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}</section>
{{end}}</body>
</html>
`))

// WriteReport writes a single static HTML page at path with the given title
// and sections. Image paths are used as-is in <img src>, so pass them
// relative to the report's directory. All text is HTML-escaped.
func WriteReport(path, title string, sections []ReportSection) error {
	view := struct {
		Title    string
		Sections []reportSectionView
	}{Title: title}
	for _, s := range sections {
		v := reportSectionView{Title: s.Title, Text: s.Text}
		names := make([]string, 0, len(s.Figures))
		for name := range s.Figures {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			v.Figures = append(v.Figures, reportFigure{Name: name, Value: formatFigure(s.Figures[name])})
		}
		for _, img := range s.Images {
			v.Images = append(v.Images, reportImage{Src: img, Caption: imageCaption(img)})
		}
		view.Sections = append(view.Sections, v)
	}
	if err := atomicWrite(path, func(w io.Writer) error { return reportTmpl.Execute(w, view) }); err != nil {
		return fmt.Errorf("eval: write report: %w", err)
	}
	return nil
}

// formatFigure prints 6 significant digits: enough for MSE/PSNR/accuracy,
// short enough for a table; integers (counts, epochs) stay integers.
func formatFigure(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func imageCaption(src string) string {
	return path.Base(src)
}
