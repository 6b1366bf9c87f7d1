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

	"github.com/stowage-build/stowage/spec"
)

// A word is expanded by BuildKit's lexer, as dockerfile2llb expands it,
// with each arg standing for a sentinel: the result is the Dockerfile's
// text with its quotes and escapes resolved, its ENV values put in, and a
// sentinel where an arg's value goes, which text turns into ${NAME}. ENV
// values are known from the Dockerfile; the base image's are not.
const sentinelMark = '\x00'

// scope is what a word sees: the args in scope with their defaults (nil
// when the build decides), and the ENV values the Dockerfile set.
type scope struct {
	args map[string]*string
	env  map[string]string
}

func (c *converter) sentinel(name string) string {
	if c.referenced == nil {
		c.referenced = map[string]bool{}
	}
	c.referenced[name] = true
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
// With defaults set, an arg whose default is known stands for that value:
// what --best-effort writes where a word cannot keep the arg.
type getter struct {
	c        *converter
	sc       *scope
	defaults bool
}

func (g getter) Get(name string) (string, bool) {
	if v, ok := g.sc.env[name]; ok {
		return v, true
	}
	if d, ok := g.sc.args[name]; ok {
		if g.defaults && d != nil && !hasSentinel(*d) {
			return *d, true
		}
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

// operatorStart finds ${NAME followed by an operator (${A:-x}, ${A#x}, …);
// reference finds $NAME and ${NAME in a word.
var (
	operatorStart = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*[:#%/^,]`)
	reference     = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
)

// operatorOnArg finds an operator expression in word whose operand or
// pattern refers to an arg, or to an ENV whose value holds one: its result
// depends on a value only the build knows, which Stowage's ${NAME} cannot
// compute. It returns the expression and the name, or "" for none.
func operatorOnArg(word string, g getter) (expr, name string) {
	for _, loc := range operatorStart.FindAllStringIndex(word, -1) {
		e := word[loc[0]:closingBrace(word, loc[0]+2)]
		for _, m := range reference.FindAllStringSubmatch(e, -1) {
			if v, ok := g.Get(m[1]); ok && hasSentinel(v) {
				return e, m[1]
			}
		}
	}
	return "", ""
}

// closingBrace is the end of the ${ expression whose body starts at i.
func closingBrace(word string, i int) int {
	depth := 0
	for ; i < len(word); i++ {
		switch {
		case strings.HasPrefix(word[i:], "${"):
			depth++
			i++
		case word[i] == '}' && depth == 0:
			return i + 1
		case word[i] == '}':
			depth--
		}
	}
	return len(word)
}

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
	// Refused before the lexer sees it: it would apply the operator to
	// the sentinel standing for the arg.
	if expr, name := operatorOnArg(word, getter{c: c, sc: sc}); expr != "" {
		msg := fmt.Sprintf("%s uses %s in an operator; its value comes from a build arg, which Stowage's ${NAME} has no operators for", expr, name)
		hint := "give the arg the value the operator would make, or compute it in a RUN"
		if !c.opt.BestEffort {
			c.failAt(nil, line, msg, hint)
			return ""
		}
		res, err := lex.ProcessWordWithMatches(word, getter{c: c, sc: sc, defaults: true})
		if err != nil || hasSentinel(res.Result) {
			c.failAt(nil, line, msg, hint)
			return ""
		}
		c.failAt(nil, line, msg+"; written with the args' defaults, as "+strconv.Quote(res.Result), hint)
		return res.Result
	}
	res, err := lex.ProcessWordWithMatches(word, getter{c: c, sc: sc})
	if err != nil {
		c.errAt(line, fmt.Sprintf("%q: %v", word, err), parseHint)
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(res.Unmatched)) {
		if !spec.ValidArgName(name) {
			// $$, $1, $@ …: never set, empty in Dockerfile as here.
			continue
		}
		if c.meta[name] != nil {
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
