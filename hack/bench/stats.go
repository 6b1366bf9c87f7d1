package main

import (
	"fmt"
	"slices"
	"strings"
)

// series is the measurements of one side of a comparison, in run order, so
// that two series of one comparison pair up round by round.
type series []float64

// stats are a series' median, lowest and highest values.
func (s series) stats() (median, lo, hi float64) {
	if len(s) == 0 {
		return 0, 0, 0
	}
	v := slices.Clone(s)
	slices.Sort(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[0], v[n-1]
}

func (s series) median() float64 { m, _, _ := s.stats(); return m }

// ratios pairs a with b round by round: the statistic of a noisy, shared
// machine, where both sides of one round see the same load.
func ratios(a, b series) series {
	n := min(len(a), len(b))
	out := make(series, n)
	for i := range n {
		out[i] = a[i] / b[i]
	}
	return out
}

// scale divides every value of s by d.
func (s series) scale(d float64) series {
	out := make(series, len(s))
	for i, v := range s {
		out[i] = v / d
	}
	return out
}

// A kind says how a number reads in the table.
type kind int

const (
	nanoseconds kind = iota
	seconds
	size
	kilobytes
	count
	ratio
)

func human(k kind, x float64) string {
	switch k {
	case nanoseconds:
		switch {
		case x >= 1e9:
			return fmt.Sprintf("%.2f s", x/1e9)
		case x >= 1e6:
			return fmt.Sprintf("%.2f ms", x/1e6)
		case x >= 1e3:
			return fmt.Sprintf("%.0f µs", x/1e3)
		}
		return fmt.Sprintf("%.0f ns", x)
	case seconds:
		return fmt.Sprintf("%.2f s", x)
	case size:
		if x >= 1<<20 {
			return fmt.Sprintf("%.1f MiB", x/(1<<20))
		}
		return fmt.Sprintf("%.0f KiB", x/1024)
	case kilobytes:
		return fmt.Sprintf("%.1f MiB", x/1024)
	case count:
		switch {
		case x >= 1e6:
			return fmt.Sprintf("%.2fM", x/1e6)
		case x >= 1e3:
			return fmt.Sprintf("%.1fk", x/1e3)
		}
		return fmt.Sprintf("%d", int64(x))
	}
	return fmt.Sprintf("%.2f", x)
}

// cell is "median (lowest–highest)" of s, or the one value.
func cell(k kind, s series) string {
	m, lo, hi := s.stats()
	if len(s) == 1 {
		return human(k, m)
	}
	return fmt.Sprintf("%s (%s–%s)", human(k, m), human(k, lo), human(k, hi))
}

// table collects the rows of the output.
type table struct{ rows []string }

func (t *table) row(cells ...string) {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + strings.TrimSpace(c) + " |")
	}
	t.rows = append(t.rows, b.String())
}
