// Package convert writes a stowage.yaml from a Dockerfile: a step per
// stage (split where the stage's order of instructions needs it), its
// cache mounts declared once as volumes keyed by their ids. It reads the
// Dockerfile with BuildKit's own parser and instructions, and expands
// words with BuildKit's own lexer and the instructions' own Expand, as
// dockerfile2llb does, so the spec builds the image the Dockerfile builds.
package convert

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec"
	"github.com/stowage-build/stowage/spec/syntax"
)

// Options say what to name and what to do with what has no equivalent.
type Options struct {
	// File names the Dockerfile in errors and in the spec's header.
	File string
	// Project is the spec's project, the namespace of its volumes.
	Project string
	// Syntax is the spec's # syntax= image.
	Syntax string
	// BestEffort writes a # TODO comment for an instruction with no
	// equivalent instead of failing.
	BestEffort bool
}

// Convert returns the stowage.yaml for a Dockerfile. What has no
// equivalent is a spec.ErrorList naming each line, unless opt.BestEffort.
func Convert(dockerfile []byte, opt Options) ([]byte, error) {
	if opt.File == "" {
		opt.File = "Dockerfile"
	}
	if err := checkText(dockerfile, opt.File); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, dockerfileError(err, opt.File)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, dockerfileError(err, opt.File)
	}
	if len(stages) == 0 {
		return nil, dockerfileError(errNoStage, opt.File)
	}
	c := &converter{
		opt:     opt,
		escape:  res.EscapeToken,
		volumes: map[string]*volume{},
		stages:  map[string]*stageState{},
		meta:    map[string]*arg{},
	}
	c.stageNames = map[string]bool{}
	for i, s := range stages {
		c.stageNames[strconv.Itoa(i)] = true
		if s.Name != "" {
			c.stageNames[s.Name] = true
		}
	}
	c.directives(dockerfile)
	c.metaArgs(metaArgs)
	for i := range stages {
		c.stage(i, &stages[i])
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	c.nameSteps()
	y, root, err := c.render()
	if err != nil {
		return nil, err
	}
	// What convert writes must load. What Stowage refuses in it (an image
	// name BuildKit would refuse at build time, a path the kernel does not
	// take) is said at the Dockerfile line it came from.
	if _, err := spec.Load(y, spec.Options{File: spec.DefaultFile}); err != nil {
		return nil, c.refused(err, y, root)
	}
	return y, nil
}

// checkText refuses what a YAML file cannot hold: bytes that are not
// UTF-8, and NUL, which also marks args in expanded words.
func checkText(dt []byte, file string) error {
	for i := 0; i < len(dt); {
		r, n := utf8.DecodeRune(dt[i:])
		if r == utf8.RuneError && n <= 1 || r == 0 {
			line := bytes.Count(dt[:i], []byte("\n")) + 1
			col := utf8.RuneCount(dt[bytes.LastIndexByte(dt[:i], '\n')+1:i]) + 1
			msg := fmt.Sprintf("byte 0x%02x is not UTF-8 text", dt[i])
			if r == 0 {
				msg = "a NUL byte"
			}
			return spec.ErrorList{{File: file, Range: spec.Range{Start: spec.Pos{Line: line, Col: col}}, Msg: msg, Hint: "save the Dockerfile as UTF-8 text"}}
		}
		i += n
	}
	return nil
}

type converter struct {
	opt    Options
	escape rune
	errs   spec.ErrorList
	// notes head the spec: what the conversion dropped or changed.
	notes []string
	// args are the spec's top-level args (the Dockerfile's meta args).
	args []*arg
	meta map[string]*arg
	// steps are the spec's steps, in order, named once all are known.
	steps []*step
	// stages are the converted stages by name and by index; order lists
	// them as the Dockerfile does.
	stages map[string]*stageState
	order  []*stageState
	// stageNames are every stage's name and index, defined yet or not.
	stageNames map[string]bool
	// volumes are the cache volumes by Dockerfile cache id, in order.
	volumes map[string]*volume
	vorder  []*volume
	// sentinels are the names of the arg references in expanded words.
	sentinels []string
	// st is the stage being converted; line is the Dockerfile line of the
	// instruction being converted, which what it makes records.
	st   *stageState
	line int
	// src maps the nodes render makes to the Dockerfile lines they came
	// from, so that what the spec refuses is said at its Dockerfile line.
	src map[*yaml.Node]int
	// failures counts what failAt reported, so a caller can tell whether
	// its word converted.
	failures int
	// referenced are the args a converted word refers to.
	referenced map[string]bool
}

type arg struct {
	name string
	line int
	// raw is the default as expanded (sentinels for args), nil when the
	// build decides it (a platform arg).
	raw *string
	// unset is an ARG the Dockerfile declares without a value: written
	// only where a word refers to it.
	unset bool
	// value is nil for a reference to a top-level or platform arg.
	value    *string
	comments []string
}

type kv struct {
	key, value string
	line       int
	comments   []string
}

// step is one step of the spec, filled from a stage's instructions.
type step struct {
	name string
	// line is where the step starts in the Dockerfile; lines are where
	// its single fields were set, by field.
	line  int
	lines map[string]int
	// from is an image, or the step fromStep when that is set.
	from, platform       string
	fromStep             *step
	comments             []string
	args                 []*arg
	workdir, user        string
	env                  []kv
	shell                []string
	network, security    string
	copies, mounts, runs []*item
	// runKey is what the step's runs share: mounts, network, security.
	runKey      string
	entrypoint  []string
	cmd         []string
	expose      []string
	labels      []kv
	volumes     []string
	stopsignal  string
	healthcheck *healthcheck
	todos       []string
}

// used reports whether the step has copied or run anything: an
// instruction that changes what copies and runs see then needs a new step.
func (s *step) used() bool { return len(s.copies) > 0 || len(s.runs) > 0 }

// stageState is what the instructions of a stage see.
type stageState struct {
	// name is the stage's, or stage-N; named is set when the Dockerfile
	// names it (AS NAME), which makes it a target users build.
	name  string
	named bool
	parts []*step
	cur   *step
	args  []*arg
	env   map[string]string
	shell []string
	// workdir is "" while it may be the base image's, which the
	// conversion cannot see.
	workdir string
	// nonRoot is set once a USER names someone other than root.
	nonRoot bool
	// cmd is the stage's own CMD, which its ENTRYPOINT keeps.
	cmd []string
}

func (c *converter) directives(dt []byte) {
	var dp parser.DirectiveParser
	ds, _ := dp.ParseAll(dt)
	for _, d := range ds {
		c.notes = append(c.notes, fmt.Sprintf("Dropped the Dockerfile's `# %s=%s`: the first line names Stowage's frontend.", d.Name, d.Value))
	}
}

func (c *converter) metaArgs(metaArgs []instructions.ArgCommand) {
	for _, a := range metaArgs {
		c.line = lineOf(a.Location())
		for _, kvp := range a.Args {
			if !c.argName(nil, kvp.Key, a.Location()) {
				continue
			}
			if isPlatformArg(kvp.Key) {
				// BuildKit sets it; a global ARG only names it.
				continue
			}
			raw := ""
			if kvp.Value != nil {
				raw = c.expand(*kvp.Value, c.metaScope(), a.Location())
			}
			v := c.text(raw)
			if prev := c.meta[kvp.Key]; prev != nil {
				// Declared again: the later default is the one stages see.
				prev.value, prev.raw, prev.line = &v, &raw, c.line
				continue
			}
			ma := &arg{name: kvp.Key, line: c.line, value: &v, raw: &raw, comments: dropDirectives(a.Comments(), len(c.args) == 0)}
			c.args = append(c.args, ma)
			c.meta[kvp.Key] = ma
		}
	}
}

// dropDirectives leaves out the parser directives a first instruction's
// comments begin with.
func dropDirectives(comments []string, first bool) []string {
	if !first {
		return comments
	}
	i := 0
	for i < len(comments) && directive.MatchString(comments[i]) {
		i++
	}
	return comments[i:]
}

var directive = regexp.MustCompile(`^(?i)(syntax|escape|check)\s*=`)

// metaScope is what a FROM line sees: the meta args and platform args.
func (c *converter) metaScope() *scope {
	sc := &scope{args: map[string]*string{}}
	// BuildKit's automatic platform args: FROM lines and ARG may use them
	// undeclared.
	for _, p := range syntax.PlatformArgs {
		sc.args[p] = nil
	}
	for name, a := range c.meta {
		sc.args[name] = a.raw
	}
	return sc
}

// scope is what the stage's instructions see: its args and ENV values.
func (st *stageState) scope() *scope {
	sc := &scope{args: map[string]*string{}, env: st.env}
	for _, a := range st.args {
		sc.args[a.name] = a.raw
	}
	return sc
}

func (c *converter) stage(i int, s *instructions.Stage) {
	st := &stageState{name: s.Name, named: s.Name != "", env: map[string]string{}, shell: spec.DefaultShell}
	c.st = st
	if st.name == "" {
		st.name = "stage-" + strconv.Itoa(i)
	}
	c.line = lineOf(s.Location)
	first := &step{line: c.line, lines: map[string]int{}, comments: dropDirectives(s.Comments, i == 0 && len(c.args) == 0)}
	st.parts = []*step{first}
	st.cur = first
	base := c.expand(s.BaseName, c.metaScope(), s.Location)
	if parent, ok := c.stages[strings.ToLower(base)]; ok {
		first.fromStep = parent.final()
		st.env = maps.Clone(parent.env)
		st.shell = parent.shell
		st.workdir, st.nonRoot = parent.workdir, parent.nonRoot
		// Dockerfile passes a stage's args on to stages built on it;
		// Stowage's steps list them again.
		st.args = append(st.args, parent.args...)
	} else {
		if base == "scratch" {
			st.workdir = "/"
		}
		first.from = c.text(base)
	}
	if s.Platform != "" {
		first.platform = c.text(c.expand(s.Platform, c.metaScope(), s.Location))
	}
	first.args = append(first.args, st.args...)
	for _, cmd := range s.Commands {
		c.command(st, cmd)
	}
	c.order = append(c.order, st)
	c.stages[strconv.Itoa(i)] = st
	if s.Name != "" {
		c.stages[s.Name] = st
	}
}

func (st *stageState) final() *step { return st.parts[len(st.parts)-1] }

// split starts a new step of the stage, from the one before, at line.
func (st *stageState) split(line int) {
	next := &step{line: line, lines: map[string]int{}, args: append([]*arg(nil), st.args...)}
	st.parts = append(st.parts, next)
	st.cur = next
}

// nameSteps names every step once all stages are known. A stage's last
// step takes the stage's name, the target users build; of stages sharing
// a name, the last keeps it, as BuildKit's --target finds the last. Every
// other step, and a stage named what Stowage reads as a source, gets a
// free NAME-k; each part starts from the one before.
func (c *converter) nameSteps() {
	taken := map[string]bool{}
	owner := map[string]*stageState{}
	for _, st := range c.order {
		if st.named && !reservedStep(st.name) {
			owner[st.name] = st
			taken[st.name] = true
		}
	}
	free := func(base string) string {
		name := base
		for i := 2; taken[name] || reservedStep(name); i++ {
			name = base + "-" + strconv.Itoa(i)
		}
		taken[name] = true
		return name
	}
	for _, st := range c.order {
		for k, p := range st.parts {
			switch {
			case k == len(st.parts)-1 && owner[st.name] == st:
				p.name = st.name
			case k == len(st.parts)-1:
				p.name = free(st.name)
			default:
				p.name = free(st.name + "-" + strconv.Itoa(k+1))
			}
			if k > 0 {
				p.fromStep = st.parts[k-1]
			}
			c.steps = append(c.steps, p)
		}
		if st.named && reservedStep(st.name) {
			c.notes = append(c.notes, fmt.Sprintf("Stage %s is step %s: from: reads %q as a source, not a step.", st.name, st.final().name, st.name))
		}
	}
}

// reservedStep reports a name Stowage's from: reads as a source.
func reservedStep(name string) bool {
	return name == "scratch" || name == "context" || strings.HasPrefix(name, "context:")
}

// command adds one instruction of a stage.
func (c *converter) command(st *stageState, cmd instructions.Command) {
	loc := cmd.Location()
	c.line = lineOf(loc)
	defer func() {
		// Name is the instruction as written, in any case.
		for _, f := range fieldsOf[strings.ToLower(cmd.Name())] {
			st.cur.lines[f] = c.line
		}
	}()
	sc := st.scope()
	// Expanding also parses what waits for it (RUN's --mount flags): its
	// errors are the Dockerfile's, as dockerfile2llb reports them.
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		// ARG and ENV expand their own, entry by entry.
		switch cmd.(type) {
		case *instructions.ArgCommand, *instructions.EnvCommand:
		default:
			if err := ex.Expand(func(w string) (string, error) { return c.expand(w, sc, loc), nil }); err != nil {
				c.expandError(st, cmd, err)
				return
			}
		}
	}
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
		if err := ex.ExpandRaw(func(w string) (string, error) { return c.expandRaw(w, sc, loc), nil }); err != nil {
			c.expandError(st, cmd, err)
			return
		}
	}
	switch cmd := cmd.(type) {
	case *instructions.EnvCommand:
		// Copies do not see ENV (their words are expanded here); runs do.
		if len(st.cur.runs) > 0 {
			st.split(c.line)
		}
		// Every entry sees the ENV before the instruction, as
		// BuildKit expands them; one whose word failed (a base image's
		// $PATH) is left out, not written with a hole in it.
		var set []kv
		for _, p := range cmd.Env {
			n := c.failures
			k, v := c.expand(p.Key, sc, loc), c.expand(p.Value, sc, loc)
			if c.failures == n {
				set = append(set, kv{key: k, value: v, line: c.line})
			}
		}
		for i, e := range set {
			st.env[e.key] = e.value
			e.value = c.text(e.value)
			if i == 0 {
				e.comments = cmd.Comments()
			}
			st.cur.env = setKV(st.cur.env, e)
		}
	case *instructions.ArgCommand:
		c.stageArg(st, cmd)
	case *instructions.WorkdirCommand:
		c.workdir(st, cmd)
	case *instructions.UserCommand:
		// Copies are root's unless chowned; the workdir is made, and the
		// runs run, as the step's user.
		if len(st.cur.runs) > 0 || st.cur.workdir != "" {
			st.split(c.line)
		}
		st.cur.user = c.text(cmd.User)
		st.nonRoot = !isRoot(cmd.User)
	case *instructions.ShellCommand:
		if len(st.cur.runs) > 0 {
			st.split(c.line)
		}
		st.shell = cmd.Shell
		st.cur.shell = c.texts(cmd.Shell)
	case *instructions.RunCommand:
		c.run(st, cmd)
	case *instructions.CopyCommand:
		c.copy(st, cmd, copyFlags{from: cmd.From, chown: cmd.Chown, chmod: cmd.Chmod, link: cmd.Link, exclude: cmd.ExcludePatterns, parents: cmd.Parents}, cmd.SourcesAndDest)
	case *instructions.AddCommand:
		c.copy(st, cmd, copyFlags{add: true, chown: cmd.Chown, chmod: cmd.Chmod, link: cmd.Link, exclude: cmd.ExcludePatterns, keepGitDir: cmd.KeepGitDir, checksum: cmd.Checksum, unpack: cmd.Unpack}, cmd.SourcesAndDest)
	case *instructions.CmdCommand:
		st.cmd = c.cmdLine(st, cmd.ShellDependantCmdLine)
		st.cur.cmd = st.cmd
	case *instructions.EntrypointCommand:
		st.cur.entrypoint = c.cmdLine(st, cmd.ShellDependantCmdLine)
		// Dockerfile's ENTRYPOINT keeps the stage's own CMD and drops an
		// inherited one; a Stowage step keeps only its own.
		st.cur.cmd = st.cmd
	case *instructions.ExposeCommand:
		for _, p := range cmd.Ports {
			// Split after expanding, as dockerfile2llb's ProcessWords:
			// ENV PORTS="80 443" exposes two ports. An arg's value is
			// the build's to split, which expose: cannot.
			word := c.expand(p, sc, loc)
			if hasSentinel(word) {
				st.cur.expose = append(st.cur.expose, c.text(word))
				continue
			}
			st.cur.expose = append(st.cur.expose, c.texts(strings.Fields(word))...)
		}
	case *instructions.LabelCommand:
		for _, p := range cmd.Labels {
			st.cur.labels = setKV(st.cur.labels, kv{key: c.text(p.Key), value: c.text(p.Value), line: c.line})
		}
	case *instructions.VolumeCommand:
		st.cur.volumes = append(st.cur.volumes, c.texts(cmd.Volumes)...)
	case *instructions.StopSignalCommand:
		st.cur.stopsignal = c.text(cmd.Signal)
	case *instructions.HealthCheckCommand:
		st.cur.healthcheck = c.healthcheck(cmd)
	case *instructions.OnbuildCommand:
		c.fail(st, cmd, "ONBUILD has no equivalent: a step cannot leave instructions for the images built on it", "run the commands in the steps that start from this one")
	case *instructions.MaintainerCommand:
		c.fail(st, cmd, "MAINTAINER has no equivalent (the image config's author)", "write a label instead: LABEL org.opencontainers.image.authors=…")
	default:
		c.fail(st, cmd, strings.ToUpper(cmd.Name())+" has no equivalent", "")
	}
}

func isRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "root" || u == "0"
}

// setKV sets a key in an ordered list, in its first place.
func setKV(list []kv, e kv) []kv {
	for i := range list {
		if list[i].key == e.key {
			list[i].value = e.value
			return list
		}
	}
	return append(list, e)
}

// stageArg declares ARGs in the stage: a value of a top-level or platform
// arg by name, the stage's own with a default.
func (c *converter) stageArg(st *stageState, cmd *instructions.ArgCommand) {
	// Commands before the ARG did not have it in their environment, and
	// an ENV of the name before it loses to it, where a step's own env
	// would win: both start a step.
	if len(st.cur.runs) > 0 || slices.ContainsFunc(cmd.Args, func(p instructions.KeyValuePairOptional) bool { return hasKey(st.cur.env, p.Key) }) {
		st.split(c.line)
	}
	for i, p := range cmd.Args {
		if !c.argName(st, p.Key, cmd.Location()) {
			continue
		}
		a := &arg{name: p.Key, line: c.line}
		if i == 0 {
			a.comments = cmd.Comments()
		}
		switch {
		case p.Value != nil:
			raw := c.expand(*p.Value, st.scope(), cmd.Location())
			v := c.text(raw)
			a.value, a.raw = &v, &raw
		case c.meta[p.Key] != nil:
			a.raw = c.meta[p.Key].raw
		case isPlatformArg(p.Key):
		case hasArg(st.args, p.Key):
			// Declared again without a value: the stage keeps the one
			// it has (a parent stage's), as Dockerfile does.
			continue
		default:
			// Dockerfile leaves it unset, so its commands see what they
			// inherit (the base image's env). A step arg always has a
			// value, which would replace that: the step declares it only
			// if a word uses it (render), empty.
			empty := ""
			a.value, a.raw, a.unset = &empty, &empty, true
			a.comments = append(a.comments, "The Dockerfile leaves "+p.Key+" unset unless --build-arg sets it; here it is set, empty.")
		}
		st.args = setArg(st.args, a)
		st.cur.args = setArg(st.cur.args, a)
	}
}

// argName reports whether an ARG's name is one Stowage's ${NAME} can
// refer to, and fails the ARG when not. Dockerfile takes any word, but
// its own $NAME reaches only these.
func (c *converter) argName(st *stageState, name string, loc []parser.Range) bool {
	if spec.ValidArgName(name) {
		return true
	}
	c.failAt(st, lineOf(loc), fmt.Sprintf("ARG %s: Stowage's arg names are letters, digits and underscores, not starting with a digit", name),
		"rename the arg (a Dockerfile's $NAME cannot refer to it as written either)")
	return false
}

func hasArg(list []*arg, name string) bool {
	return slices.ContainsFunc(list, func(a *arg) bool { return a.name == name })
}

func hasKey(list []kv, key string) bool {
	return slices.ContainsFunc(list, func(e kv) bool { return e.key == key })
}

func setArg(list []*arg, a *arg) []*arg {
	out := make([]*arg, 0, len(list)+1)
	for _, b := range list {
		if b.name != a.name {
			out = append(out, b)
		}
	}
	return append(out, a)
}

func isPlatformArg(name string) bool { return slices.Contains(syntax.PlatformArgs, name) }

func (c *converter) workdir(st *stageState, cmd *instructions.WorkdirCommand) {
	// Each WORKDIR makes its directory, so two in a row are two steps.
	if st.cur.used() || st.cur.workdir != "" {
		st.split(c.line)
	}
	wd, ok := st.absPath(cmd.Path)
	if !ok {
		c.fail(st, cmd, fmt.Sprintf("WORKDIR %s is relative to the base image's working directory, which the conversion cannot see", c.readable(cmd.Path)),
			"write the absolute path: the base image's working directory joined with "+c.readable(cmd.Path))
		return
	}
	st.workdir = wd
	st.cur.workdir = c.text(wd)
}

// absPath is p made absolute in the stage's working directory, as
// dockerfile2llb makes WORKDIR and mount targets; ok is false when p is
// relative to a base image's directory, which the conversion cannot see.
// A path that starts with an arg is the build's to decide.
func (st *stageState) absPath(p string) (string, bool) {
	if p == "" || strings.HasPrefix(p, string(sentinelMark)) {
		return p, true
	}
	if path.IsAbs(p) {
		// As BuildKit normalizes WORKDIR: /app/ is /app.
		return path.Clean(p), true
	}
	if st.workdir == "" {
		return "", false
	}
	return path.Join(st.workdir, p), true
}

// expandError reports what expanding an instruction refused: BuildKit's
// refusal, or (when the word held an arg, whose value the build sets) a
// value Stowage must have written out.
func (c *converter) expandError(st *stageState, cmd instructions.Command, err error) {
	msg := err.Error()
	if c.readable(msg) == msg {
		c.invalid(cmd, msg, parseHint)
		return
	}
	c.fail(st, cmd, "a flag takes its value from an arg, which Stowage reads only in the words it expands: "+c.readable(msg),
		"write the arg's value in the flag")
}

// fail reports an instruction with no equivalent, or with BestEffort
// leaves a TODO in its step.
func (c *converter) fail(st *stageState, cmd instructions.Command, msg, hint string) {
	c.failAt(st, lineOf(cmd.Location()), msg, hint)
}

// invalid reports an instruction BuildKit refuses too: an error even with
// BestEffort, since no build of the Dockerfile gets past it.
func (c *converter) invalid(cmd instructions.Command, msg, hint string) {
	c.errAt(lineOf(cmd.Location()), msg, hint)
}

func (c *converter) errAt(line int, msg, hint string) {
	c.errs = append(c.errs, &spec.Error{File: c.opt.File, Range: spec.Range{Start: spec.Pos{Line: line, Col: 1}}, Msg: msg, Hint: hint})
}

// lineOf is the line an instruction starts on.
func lineOf(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// fieldsOf are the step fields an instruction sets, which then record its
// line. Copies, runs, mounts, args, env and labels record their own.
var fieldsOf = map[string][]string{
	"workdir": {"workdir"}, "user": {"user"}, "shell": {"shell"},
	"run": {"network", "security"}, "cmd": {"cmd"}, "entrypoint": {"entrypoint", "cmd"},
	"expose": {"expose"}, "volume": {"volumes"}, "stopsignal": {"stopsignal"},
	"healthcheck": {"healthcheck"},
}

func (c *converter) failAt(st *stageState, line int, msg, hint string) {
	c.failures++
	if c.opt.BestEffort {
		todo := fmt.Sprintf("TODO (%s:%d): %s", filepath.Base(c.opt.File), line, msg)
		if hint != "" {
			todo += "; " + hint
		}
		if st == nil {
			st = c.st
		}
		if st == nil {
			c.notes = append(c.notes, todo)
		} else {
			st.cur.todos = append(st.cur.todos, todo)
		}
		return
	}
	c.errAt(line, msg, hint)
}

// cmdLine is CMD's or ENTRYPOINT's argv: a shell form runs in the stage's
// shell, as Dockerfile does.
func (c *converter) cmdLine(st *stageState, cl instructions.ShellDependantCmdLine) []string {
	args := cl.CmdLine
	if cl.PrependShell {
		args = append(append([]string(nil), st.shell...), strings.Join(args, " "))
	}
	return c.texts(args)
}

type healthcheck struct {
	test                                          any
	interval, timeout, startPeriod, startInterval string
	retries                                       int
}

func (c *converter) healthcheck(cmd *instructions.HealthCheckCommand) *healthcheck {
	h := cmd.Health
	if len(h.Test) == 0 {
		return nil
	}
	out := &healthcheck{retries: h.Retries}
	switch h.Test[0] {
	case "NONE":
		out.test = "none"
		return out
	case "CMD-SHELL":
		out.test = c.text(strings.Join(h.Test[1:], " "))
	default:
		out.test = c.texts(h.Test[1:])
	}
	// Zero is the runtime's default, which the spec leaves unset.
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	out.interval, out.timeout = dur(h.Interval), dur(h.Timeout)
	out.startPeriod, out.startInterval = dur(h.StartPeriod), dur(h.StartInterval)
	return out
}
