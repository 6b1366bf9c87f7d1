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

// maxErrors bounds the errors of one spec: nobody reads more, and the hints
// of thousands (a did-you-mean over thousands of names each) cost minutes.
const maxErrors = 100

// errs collects problems while a spec is decoded.
type errs struct {
	file string
	list ErrorList
	// dropped counts the errors past maxErrors.
	dropped int
	// echoes are the positions of values whose ${NAME} expansion failed,
	// or that used an arg whose expansion failed: any later error there
	// (a value that is no image reference, say) only echoes the first.
	echoes map[Pos]bool
}

func (c *errs) add(r Range, path, hint, format string, args ...any) {
	if c.echoes[r.Start] {
		return
	}
	if c.full() {
		c.dropped++
		return
	}
	c.list = append(c.list, &Error{File: c.file, Range: r, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// echo marks the value at p as already reported.
func (c *errs) echo(p Pos) {
	if c.echoes == nil {
		c.echoes = map[Pos]bool{}
	}
	c.echoes[p] = true
}

// full reports whether further errors are dropped.
func (c *errs) full() bool { return len(c.list) >= maxErrors }

// suggest is didYouMean while errors are kept: the hint of a dropped error
// is wasted work.
func (c *errs) suggest(got string, candidates []string) string {
	if c.full() {
		return ""
	}
	return didYouMean(got, candidates)
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
	if c.dropped > 0 {
		last := c.list[len(c.list)-1]
		return append(c.list, &Error{File: c.file, Range: last.Range, Msg: fmt.Sprintf("%d more errors not shown", c.dropped), Hint: "fix these first"})
	}
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
	// Allow roughly one typo per three characters, as Go's own suggestions do.
	limit := max(1, len(got)/3)
	lower := strings.ToLower(got)
	best, bestDist, found := "", 0, false
	for _, c := range candidates {
		// The distance is at least the difference in length: skip the
		// quadratic work for names that cannot be close.
		lc := strings.ToLower(string(c))
		if abs(len(lc)-len(lower)) > limit {
			continue
		}
		d := editDistance(lower, lc, limit)
		if !found || d < bestDist {
			best, bestDist, found = string(c), d, true
		}
	}
	if !found || bestDist == 0 && got == best || bestDist > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the optimal string alignment distance between a and b, by
// bytes: Levenshtein plus adjacent transpositions, the commonest typo
// ("form" for "from"). Past bound it gives up and returns bound+1: a hint
// may compare a name with thousands, and far ones need no exact distance.
func editDistance(a, b string, bound int) int {
	n := len(b) + 1
	// Three rows, on the stack for names of usual length.
	var arr [3 * 48]int
	buf := arr[:]
	if 3*n > len(arr) {
		buf = make([]int, 3*n)
	}
	prev2, prev, cur := buf[:n], buf[n:2*n], buf[2*n:3*n]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j < n; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		// No row has a smaller minimum than the row above it.
		if rowMin > bound {
			return bound + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], bound+1)
}
