package spec

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestInterpolate runs ${NAME} expansion on one scalar, written as the value
// of `v: ` so that positions are real, and checks the text and the errors
// ("LINE:COL: MSG").
func TestInterpolate(t *testing.T) {
	tests := []struct {
		name string
		yaml string // the value as written after "v: "
		want string
		errs []string
	}{
		{name: "no dollar", yaml: "plain text", want: "plain text"},
		{name: "name", yaml: "${A}", want: "a"},
		{name: "adjacent", yaml: "${A}${B}-${A}", want: "ab-a"},
		{name: "inside words", yaml: "x${A}y", want: "xay"},
		{name: "empty value", yaml: "x[${EMPTY}]", want: "x[]"},
		{name: "escaped", yaml: "$${A}", want: "${A}"},
		{name: "dollar dollar", yaml: "$$", want: "$"},
		{name: "three dollars", yaml: "$$$", want: "$$"},
		{name: "escaped then name", yaml: "$$${A}", want: "$a"},
		{name: "lone dollar", yaml: "$", want: "$"},
		{name: "trailing dollar", yaml: "cost 5$", want: "cost 5$"},
		{name: "shell variable", yaml: "echo $HOME $1 $@", want: "echo $HOME $1 $@"},
		{name: "command substitution", yaml: "echo $(date)", want: "echo $(date)"},
		{name: "underscore and digits", yaml: "${_X9}", want: "u"},
		{name: "value not expanded again", yaml: "${REF}", want: "${A}"},
		{name: "unicode before", yaml: `"é ${A}"`, want: "é a"},
		{
			name: "undefined",
			yaml: "echo ${NOPE}",
			want: "echo ",
			errs: []string{"1:9: ${NOPE} is not defined"},
		},
		{
			name: "undefined, did you mean",
			yaml: "${TARGETARH}",
			want: "",
			errs: []string{`1:4: ${TARGETARH} is not defined; declare it under args:, or write $${TARGETARH} for a literal (did you mean "TARGETARCH"?)`},
		},
		{
			name: "column counts characters",
			yaml: `"é ${NOPE}"`,
			want: "é ",
			errs: []string{"1:7: ${NOPE} is not defined"},
		},
		{
			name: "single quoted",
			yaml: `'it''s ${NOPE}'`,
			want: "it's ",
			// '' is two characters as written, one in the value: the
			// column falls back to the scalar's start.
			errs: []string{"1:4: ${NOPE} is not defined"},
		},
		{
			name: "double quoted escape",
			yaml: `"\t${NOPE}"`,
			want: "\t",
			errs: []string{"1:4: ${NOPE} is not defined"},
		},
		{
			name: "double quoted, no escape",
			yaml: `"a ${NOPE}"`,
			want: "a ",
			errs: []string{"1:7: ${NOPE} is not defined"},
		},
		{
			name: "folded plain scalar",
			yaml: "first\n  ${NOPE}",
			want: "first ",
			// The value reads "first ${NOPE}" on one line; the file does not.
			errs: []string{"1:4: ${NOPE} is not defined"},
		},
		{
			name: "block scalar",
			// At the reference's own line inside the block, not at the |.
			yaml: "|\n  echo\n  ${NOPE}\n",
			want: "echo\n\n",
			errs: []string{"3:3: ${NOPE} is not defined"},
		},
		{name: "empty braces", yaml: "${}", want: "", errs: []string{"1:4: ${} is not a reference to a name"}},
		{name: "space in name", yaml: "${bad name}", want: "", errs: []string{"1:4: ${bad name} is not a reference to a name; only ${NAME} is expanded; write $${bad name} to pass it to the shell as written"}},
		{name: "shell default", yaml: "${A:-x}", want: "", errs: []string{"1:4: ${A:-x} is not a reference to a name"}},
		{name: "leading digit", yaml: "${1A}", want: "", errs: []string{"1:4: ${1A} is not a reference to a name"}},
		{name: "nested", yaml: "${A${B}}", want: "}", errs: []string{"1:4: ${A${B} is not a reference to a name"}},
		{
			name: "unterminated",
			yaml: "echo ${A",
			want: "echo ${A",
			errs: []string{`1:9: unterminated ${ in "echo ${A"; close it with } or write $${ for a literal ${`},
		},
		{
			name: "unterminated after a good one",
			yaml: "${A} ${B",
			want: "${A} ${B",
			errs: []string{"1:9: unterminated ${"},
		},
		{
			name: "every error",
			yaml: "${X} ${Y} ${A}",
			want: "  a",
			errs: []string{"1:4: ${X} is not defined", "1:9: ${Y} is not defined"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "v: " + tt.yaml + "\n"
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
				t.Fatal(err)
			}
			n := doc.Content[0].Content[1]
			d := &decoder{errs: errs{file: "f"}}
			d.x = newExpander(&d.errs, []byte(src), nil, map[string]string{
				"A": "a", "B": "b", "EMPTY": "", "_X9": "u", "REF": "${A}", "TARGETARCH": "arm64",
			})
			got := d.str(n, "v", "a string")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(d.errs.list) != len(tt.errs) {
				t.Fatalf("errors: got %v, want %d like %q", d.errs.list, len(tt.errs), tt.errs)
			}
			for i, e := range d.errs.list {
				// The expected text is a prefix: most cases need not repeat
				// the hint.
				line := strings.TrimPrefix(e.Error(), "f:")
				line = strings.Replace(line, " v: ", " ", 1)
				if !strings.HasPrefix(line, tt.errs[i]) {
					t.Errorf("error %d: got %q, want it to start with %q", i, line, tt.errs[i])
				}
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{
		"A": true, "_": true, "_a1": true, "GO_VERSION": true, "a": true,
		"": false, "1A": false, "A-B": false, "A.B": false, "É": false, "A B": false, "A:-x": false,
	} {
		if got := ValidArgName(s); got != want {
			t.Errorf("validName(%q) = %v, want %v", s, got, want)
		}
	}
}
