package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an error answered to the client: a status and a one-line
// message, with the row and column (0-based) when one value is at fault.
type apiError struct {
	Status int    `json:"-"`
	Msg    string `json:"error"`
	Row    *int   `json:"row,omitempty"`
	Column *int   `json:"column,omitempty"`
}

func (e *apiError) Error() string { return e.Msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// valueError names the value at row, col (0-based) in its message and fields.
func valueError(row, col int, format string, args ...any) *apiError {
	e := errorf(http.StatusBadRequest, "row %d, column %d: %s", row, col, fmt.Sprintf(format, args...))
	e.Row, e.Column = &row, &col
	return e
}

// rowError names a whole row.
func rowError(row int, format string, args ...any) *apiError {
	e := errorf(http.StatusBadRequest, "row %d: %s", row, fmt.Sprintf(format, args...))
	e.Row = &row
	return e
}

// rows are the decoded samples of a request: n rows of dim values,
// flat, with the CSV header's column names when there was one.
type rows struct {
	x     []float32
	n     int
	names []string
}

// limits bound one request.
type limits struct {
	dim, maxRows int
}

// capFor guesses the values in a body of n bytes (about 8 bytes a value)
// so decoding allocates about once, without zeroing room for rows that
// never come.
func (l limits) capFor(n int) int {
	return min(l.dim*l.maxRows, max(l.dim, n/8))
}

func tooManyRows(max int) *apiError {
	return errorf(http.StatusRequestEntityTooLarge, "more than %d rows in one request: split it (the server's -max-rows)", max)
}

func widthError(row, got, dim int) *apiError {
	return rowError(row, "has %d values, but the model takes %d per row", got, dim)
}

// toFloat32 parses one value, rejecting what is not a finite float32.
func toFloat32(tok string, row, col int) (float32, *apiError) {
	if strings.HasPrefix(tok, `"`) {
		if len(tok) > 26 {
			tok = tok[:25] + `…"`
		}
		return 0, valueError(row, col, "the string %s is not a number", tok)
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, valueError(row, col, "%s is out of range", snippet(tok))
		}
		return 0, valueError(row, col, "%s is not a number", snippet(tok))
	}
	v := float32(f)
	if math.IsNaN(f) || math.IsInf(float64(v), 0) {
		return 0, valueError(row, col, "%s is not a finite float32", snippet(tok))
	}
	return v, nil
}

func snippet(s string) string {
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return strconv.Quote(s)
}

// decodeCSV reads rows of comma-separated numbers. The first record is a
// header of column names when header is "true", or when header is "auto"
// and none of its fields is a number.
func decodeCSV(body []byte, lim limits, header string) (*rows, *apiError) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1 // widths are checked here, with the row named
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	out := &rows{x: make([]float32, 0, lim.capFor(len(body)))}
	first := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errorf(http.StatusBadRequest, "CSV line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
			}
			return nil, errorf(http.StatusBadRequest, "CSV: %v", err)
		}
		if first {
			first = false
			if header == "true" || (header == "auto" && !anyNumber(rec)) {
				if len(rec) != lim.dim {
					return nil, errorf(http.StatusBadRequest, "CSV header has %d columns, but the model takes %d per row", len(rec), lim.dim)
				}
				out.names = append([]string(nil), rec...)
				continue
			}
		}
		if out.n == lim.maxRows {
			return nil, tooManyRows(lim.maxRows)
		}
		if len(rec) != lim.dim {
			return nil, widthError(out.n, len(rec), lim.dim)
		}
		for j, f := range rec {
			v, e := toFloat32(strings.TrimSpace(f), out.n, j)
			if e != nil {
				return nil, e
			}
			out.x = append(out.x, v)
		}
		out.n++
	}
	if out.n == 0 {
		return nil, errorf(http.StatusBadRequest, "no rows: send one line of %d comma-separated numbers per row", lim.dim)
	}
	return out, nil
}

func anyNumber(rec []string) bool {
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil {
			return true
		}
	}
	return false
}

// decodeJSON reads {"rows": [[...], ...]}. It is a small hand-written
// parser rather than encoding/json so that a null, a string or a wrong
// width is reported with its row and column, and so a request of many
// rows is not decoded through reflection value by value.
func decodeJSON(body []byte, lim limits) (*rows, *apiError) {
	p := &jsonParser{b: body}
	var out *rows
	p.ws()
	if err := p.expect('{', `a JSON object {"rows": [[...], ...]}`); err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() != '}' {
		for {
			p.ws()
			key, err := p.key()
			if err != nil {
				return nil, err
			}
			p.ws()
			if err := p.expect(':', "':' after the key"); err != nil {
				return nil, err
			}
			p.ws()
			if key != "rows" {
				return nil, errorf(http.StatusBadRequest, `unknown field %s: send {"rows": [[...], ...]}`, strconv.Quote(key))
			}
			if out != nil {
				return nil, errorf(http.StatusBadRequest, `"rows" appears twice`)
			}
			if out, err = p.rows(lim); err != nil {
				return nil, err
			}
			p.ws()
			if p.peek() == ',' {
				p.i++
				continue
			}
			break
		}
	}
	if err := p.expect('}', "'}' or ','"); err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, p.syntax("end of input after the object")
	}
	if out == nil || out.n == 0 {
		return nil, errorf(http.StatusBadRequest, `no rows: send {"rows": [[...], ...]} with %d numbers per row`, lim.dim)
	}
	return out, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) syntax(want string) *apiError {
	if p.i >= len(p.b) {
		return errorf(http.StatusBadRequest, "malformed JSON: input ends at byte %d; want %s", p.i, want)
	}
	return errorf(http.StatusBadRequest, "malformed JSON at byte %d: found %s, want %s", p.i, snippet(string(p.b[p.i:min(p.i+8, len(p.b))])), want)
}

func (p *jsonParser) expect(c byte, want string) *apiError {
	if p.peek() != c {
		return p.syntax(want)
	}
	p.i++
	return nil
}

// key reads a JSON string (an object key), escapes included.
func (p *jsonParser) key() (string, *apiError) {
	if p.peek() != '"' {
		return "", p.syntax("a quoted key")
	}
	start := p.i
	for p.i++; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case '\\':
			p.i++
		case '"':
			p.i++
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", errorf(http.StatusBadRequest, "malformed JSON key at byte %d: %v", start, err)
			}
			return s, nil
		}
	}
	return "", p.syntax("the end of the key")
}

// token returns the value at p up to the next delimiter.
func (p *jsonParser) token() string {
	start := p.i
	if p.peek() == '"' { // a string: take it whole, quotes included
		for p.i++; p.i < len(p.b) && p.b[p.i] != '"'; p.i++ {
			if p.b[p.i] == '\\' {
				p.i++
			}
		}
		p.i = min(p.i+1, len(p.b))
		return string(p.b[start:p.i])
	}
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r', '[', '{':
			return string(p.b[start:p.i])
		}
		p.i++
	}
	return string(p.b[start:p.i])
}

func (p *jsonParser) rows(lim limits) (*rows, *apiError) {
	if p.peek() != '[' {
		return nil, p.syntax(`an array of rows after "rows"`)
	}
	p.i++
	out := &rows{x: make([]float32, 0, lim.capFor(len(p.b)))}
	p.ws()
	if p.peek() == ']' {
		p.i++
		return out, nil
	}
	for r := 0; ; r++ {
		p.ws()
		if r == lim.maxRows {
			return nil, tooManyRows(lim.maxRows)
		}
		if p.peek() != '[' {
			return nil, rowError(r, "found %s, want an array of %d numbers", snippet(p.token()), lim.dim)
		}
		p.i++
		p.ws()
		c := 0
		if p.peek() == ']' {
			p.i++
		} else {
			for ; ; c++ {
				p.ws()
				if p.i >= len(p.b) {
					return nil, p.syntax("a number")
				}
				tok := p.token()
				if tok == "" {
					return nil, valueError(r, c, "found %s, want a number", snippet(string(p.b[p.i:min(p.i+8, len(p.b))])))
				}
				if c < lim.dim {
					v, err := toFloat32(tok, r, c)
					if err != nil {
						return nil, err
					}
					out.x = append(out.x, v)
				}
				p.ws()
				if p.peek() == ',' {
					p.i++
					continue
				}
				if err := p.expect(']', fmt.Sprintf("',' or ']' in row %d", r)); err != nil {
					return nil, err
				}
				c++
				break
			}
		}
		if c != lim.dim {
			return nil, widthError(r, c, lim.dim)
		}
		out.n++
		p.ws()
		if p.peek() == ',' {
			p.i++
			continue
		}
		if err := p.expect(']', "',' or ']' after a row"); err != nil {
			return nil, err
		}
		return out, nil
	}
}
