package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a spec, at a place in the file.
type Error struct {
	File string
	Range
	// Path names the field, like "caches.gobuild.scope".
	Path string
	// Msg says what is wrong.
	Msg string
	// Hint says what to write instead.
	Hint string
}

// Error renders "FILE:LINE:COL: PATH: MSG; HINT", one line, so editors and CI
// annotations can jump to it.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Start.Line, e.Start.Col)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrorList is every problem found in one spec, sorted by position.
type ErrorList []*Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// errs collects problems while a spec is decoded.
type errs struct {
	file string
	list ErrorList
}

func (c *errs) add(r Range, path, hint, format string, args ...any) {
	c.list = append(c.list, &Error{File: c.file, Range: r, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// err returns the sorted list, or nil when there is nothing in it. Problems
// at one position keep the order they were found in.
func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	slices.SortStableFunc(c.list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Start.Line, b.Start.Line), cmp.Compare(a.Start.Col, b.Start.Col))
	})
	return c.list
}

// oneOf renders the valid values for a hint: `"a", "b" or "c"`.
func oneOf[T ~string](vals []T) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// didYouMean returns ` (did you mean "x"?)` for the closest candidate within a
// small edit distance, or "".
func didYouMean[T ~string](got string, candidates []T) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(got), strings.ToLower(string(c)))
		if best == "" || d < bestDist {
			best, bestDist = string(c), d
		}
	}
	// Allow roughly one typo per three characters, as Go's own suggestions do.
	if best == "" || bestDist == 0 && got == best || bestDist > max(1, len(got)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal string alignment distance between a and b, by
// bytes: Levenshtein plus adjacent transpositions, the commonest typo
// ("form" for "from").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
