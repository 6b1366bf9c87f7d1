package convert

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// A word is expanded by BuildKit's lexer, as dockerfile2llb expands it,
// with each arg standing for a sentinel: the result is the Dockerfile's
// text with its quotes and escapes resolved, its ENV values put in, and a
// sentinel where an arg's value goes, which text turns into ${NAME}. ENV
// values are known from the Dockerfile; the base image's are not.
const sentinelMark = '\x00'

type scope struct {
	args map[string]bool
	env  map[string]string
}

func (c *converter) sentinel(name string) string {
	i := slices.Index(c.sentinels, name)
	if i < 0 {
		i = len(c.sentinels)
		c.sentinels = append(c.sentinels, name)
	}
	return string(sentinelMark) + strconv.Itoa(i) + string(sentinelMark)
}

func hasSentinel(s string) bool { return strings.ContainsRune(s, sentinelMark) }

// getter is the lexer's environment: ENV values win over args, as in
// dockerfile2llb.
type getter struct {
	c  *converter
	sc *scope
}

func (g getter) Get(name string) (string, bool) {
	if v, ok := g.sc.env[name]; ok {
		return v, true
	}
	if g.sc.args[name] {
		return g.c.sentinel(name), true
	}
	return "", false
}

func (g getter) Keys() []string {
	keys := make([]string, 0, len(g.sc.env)+len(g.sc.args))
	for k := range g.sc.env {
		keys = append(keys, k)
	}
	for k := range g.sc.args {
		if _, ok := g.sc.env[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// A ${NAME…} with an operator: on an arg, its result depends on a value
// only the build knows.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var operatorRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)[:#%/^,]`)

func (c *converter) expand(word string, sc *scope, loc []parser.Range) string {
	return c.lex(shell.NewLex(c.escape), word, sc, loc)
}

// expandRaw is how dockerfile2llb expands heredoc contents.
func (c *converter) expandRaw(word string, sc *scope, loc []parser.Range) string {
	lex := shell.NewLex('\\')
	lex.SkipProcessQuotes = true
	return c.lex(lex, word, sc, loc)
}

func (c *converter) lex(lex *shell.Lex, word string, sc *scope, loc []parser.Range) string {
	if word == "" {
		return ""
	}
	line := lineOf(loc)
	for _, m := range operatorRef.FindAllStringSubmatch(word, -1) {
		if v, ok := (getter{c, sc}).Get(m[1]); ok && hasSentinel(v) {
			c.failAt(nil, line, fmt.Sprintf("%s… applies an operator to the arg %s, which Stowage's ${NAME} cannot", m[0], m[1]),
				"give the arg the value the operator would make, or compute it in a RUN")
		}
	}
	res, err := lex.ProcessWordWithMatches(word, getter{c, sc})
	if err != nil {
		c.failAt(nil, line, fmt.Sprintf("%q: %v", word, err), "")
		return word
	}
	for _, name := range slices.Sorted(maps.Keys(res.Unmatched)) {
		if !identifier.MatchString(name) {
			// $$, $1, $@ …: never set, empty in Dockerfile as here.
			continue
		}
		if c.meta[name] {
			c.failAt(nil, line, fmt.Sprintf("$%s is a top-level ARG, which a stage sees only after its own ARG %s: Dockerfile expands it to an empty string here, unless the base image sets it", name, name),
				"add ARG "+name+" to the stage, or write the value")
			continue
		}
		c.failAt(nil, line, fmt.Sprintf("$%s is neither an ARG nor an ENV the Dockerfile sets before this line; if the base image sets it, the conversion cannot see its value", name),
			"write its value in full (the base image's, from `docker image inspect`), or declare it with ARG "+name+" if it is a build arg")
	}
	return res.Result
}

// text writes an expanded word as a Stowage value: a literal $ that
// Stowage would read as ${NAME} or $$ is doubled, and each sentinel
// becomes ${NAME}.
func (c *converter) text(s string) string {
	if !strings.ContainsRune(s, '$') && !hasSentinel(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '$':
			b.WriteByte('$')
			if i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '{' || s[i+1] == sentinelMark) {
				b.WriteByte('$')
			}
		case ch == sentinelMark:
			end := strings.IndexByte(s[i+1:], sentinelMark)
			n, _ := strconv.Atoi(s[i+1 : i+1+end])
			b.WriteString("${" + c.sentinels[n] + "}")
			i += 1 + end
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// readable is an expanded word as a message shows it: each arg as ${NAME},
// also where the message quoted the word (%q writes NUL as \x00).
func (c *converter) readable(s string) string {
	return sentinelRef.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(sentinelRef.FindStringSubmatch(m)[1])
		return "${" + c.sentinels[n] + "}"
	})
}

var sentinelRef = regexp.MustCompile(`(?:\x00|\\x00)([0-9]+)(?:\x00|\\x00)`)

func (c *converter) texts(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = c.text(s)
	}
	return out
}
