package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "", 1},
		{"", "abc", 3},
		{"from", "from", 0},
		{"form", "from", 1}, // a transposition is one edit
		{"ab", "ba", 1},
		{"abc", "ca", 3}, // optimal string alignment, not full Damerau
		{"sharring", "sharing", 1},
		{"kitten", "sitting", 3},
		{"readonyl", "readonly", 1},
		{"cache", "caches", 1},
		{"workdri", "workdir", 1},
		{"é", "e", 2}, // by bytes: é is two
		{strings.Repeat("a", 60), strings.Repeat("a", 59) + "b", 1}, // longer than the stack rows
		{"abcdef", "badcfe", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b, 100); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a, 100); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
		// Past the bound only "more than bound" matters.
		for bound := range tt.want + 2 {
			if got := editDistance(tt.a, tt.b, bound); got != min(tt.want, bound+1) {
				t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, bound, got, min(tt.want, bound+1))
			}
		}
	}
}

func TestDidYouMean(t *testing.T) {
	fields := []string{"cmd", "copy", "description", "entrypoint", "env", "expose", "from", "labels", "mounts", "platform", "run", "shell", "user", "workdir"}
	tests := []struct {
		got        string
		candidates []string
		want       string
	}{
		{"form", fields, ` (did you mean "from"?)`},
		{"mount", fields, ` (did you mean "mounts"?)`},
		{"Workdir", fields, ` (did you mean "workdir"?)`}, // case differs
		{"entrypoitn", fields, ` (did you mean "entrypoint"?)`},
		{"frobnicate", fields, ""},
		// Short words allow one edit, so "x" matches any one-letter name...
		{"x", []string{"y"}, ` (did you mean "y"?)`},
		// ...but not a two-letter one that differs in both.
		{"ab", []string{"cd"}, ""},
		// One typo per three characters: "bulid" is two edits from "build".
		{"bulid", []string{"build"}, ` (did you mean "build"?)`},
		{"bxxld", []string{"build"}, ""},
		{"build", []string{"build"}, ""}, // itself is no suggestion
		{"Build", []string{"build"}, ` (did you mean "build"?)`},
		{"a", nil, ""},
		{"", []string{"a"}, ` (did you mean "a"?)`},
		// The first of equally close candidates wins, so hints are stable.
		{"ab", []string{"ac", "ad"}, ` (did you mean "ac"?)`},
		// An empty candidate is a candidate like any other.
		{"a", []string{"", "zz"}, ` (did you mean ""?)`},
		{"globl", []string{"project", "global", "session"}, ` (did you mean "global"?)`},
	}
	for _, tt := range tests {
		if got := didYouMean(tt.got, tt.candidates); got != tt.want {
			t.Errorf("didYouMean(%q, %q) = %q, want %q", tt.got, tt.candidates, got, tt.want)
		}
	}
}

func TestOneOf(t *testing.T) {
	equal(t, "one", oneOf([]string{"a"}), `"a"`)
	equal(t, "two", oneOf([]string{"a", "b"}), `"a" or "b"`)
	equal(t, "scopes", oneOf(Scopes), `"project", "global" or "session"`)
}

func TestErrorText(t *testing.T) {
	e := &Error{File: "f.yaml", Range: Range{Start: Pos{3, 7}}, Path: "steps.a", Msg: "bad", Hint: "fix it"}
	equal(t, "full", e.Error(), "f.yaml:3:7: steps.a: bad; fix it")
	equal(t, "no path or hint", (&Error{File: "f.yaml", Range: Range{Start: Pos{1, 1}}, Msg: "bad"}).Error(), "f.yaml:1:1: bad")
	list := ErrorList{e, {File: "f.yaml", Range: Range{Start: Pos{4, 1}}, Msg: "worse"}}
	equal(t, "list", list.Error(), "f.yaml:3:7: steps.a: bad; fix it\nf.yaml:4:1: worse")
	var got *Error
	if !errors.As(error(list), &got) || got != e {
		t.Errorf("errors.As found %v, want the first error", got)
	}
}

func TestQuoteShort(t *testing.T) {
	equal(t, "short", quoteShort("a\nb"), `"a\nb"`)
	long := "ééééééééééééééééééééééééééééééééééééééééé" // 41 two-byte runes
	got := quoteShort(long)
	equal(t, "long", got, `"`+long[:36]+`..."`)
}
