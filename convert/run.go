package convert

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/stowage-build/stowage/scaffold"
)

// item is one entry of a step's copy, mounts or run list: its value (a
// copy's or mount's fields, a command's text), the Dockerfile line it
// came from, and the comments above it there.
type item struct {
	value    any
	line     int
	comments []string
}

// field is a key and a value of a mapping the spec writes: a string, a
// bool, a number, a list of strings or a mapping of fields.
type field struct {
	key   string
	value any
}

// volume is a cache volume made from the cache mounts of one id.
type volume struct {
	name, id             string
	sharing, owner, mode string
	line                 int
}

// run adds a RUN; its mounts, network and security are the step's, so a
// RUN that differs in them starts a new step.
func (c *converter) run(st *stageState, cmd *instructions.RunCommand) {
	mounts := c.mounts(st, cmd)
	network := instructions.GetNetwork(cmd)
	security := instructions.GetSecurity(cmd)
	key := fmt.Sprintf("%s|%s", network, security)
	for _, m := range mounts {
		// The fields, not the item: each RUN makes its own items.
		key += fmt.Sprintf("|%v", m.value)
	}
	if len(st.cur.runs) > 0 && key != st.cur.runKey {
		st.split(c.line)
	}
	if len(st.cur.runs) == 0 {
		st.cur.runKey = key
		st.cur.mounts = mounts
		if network != instructions.NetworkDefault {
			st.cur.network = network
		}
		if security != instructions.SecuritySandbox {
			st.cur.security = security
		}
	}
	text, ok := c.runText(st, cmd)
	if !ok {
		return
	}
	st.cur.runs = append(st.cur.runs, &item{value: c.text(text), line: c.line, comments: cmd.Comments()})
}

// runText is the shell command a RUN runs, as dockerfile2llb makes it.
func (c *converter) runText(st *stageState, cmd *instructions.RunCommand) (string, bool) {
	args := cmd.CmdLine
	if len(cmd.Files) > 0 {
		if h := parser.MustParseHeredoc(args[0]); h != nil && len(cmd.Files) == 1 {
			data := cmd.Files[0].Data
			if cmd.Files[0].Chomp {
				data = parser.ChompHeredocContent(data)
			}
			if strings.HasPrefix(data, "#!") {
				c.fail(st, cmd, "RUN <<"+cmd.Files[0].Name+" starts with #!: Dockerfile runs it as a script, which a Stowage run cannot",
					"run it with its interpreter, like RUN python3 - <<EOF")
				return "", false
			}
			return data, true
		}
		var b strings.Builder
		b.WriteString(args[0])
		for _, f := range cmd.Files {
			b.WriteByte('\n')
			b.WriteString(f.Data)
			b.WriteString(f.Name)
		}
		return b.String(), true
	}
	if cmd.PrependShell {
		return strings.Join(args, " "), true
	}
	// The exec form runs its argv without a shell; quoted, the shell runs
	// the same argv.
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " "), true
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// mounts converts a RUN's --mount flags.
func (c *converter) mounts(st *stageState, cmd *instructions.RunCommand) []*item {
	var out []*item
	for _, m := range instructions.GetMounts(cmd) {
		target, ok := c.mountTarget(st, cmd, m)
		if !ok {
			continue
		}
		var f []field
		add := func(k string, v any) { f = append(f, field{k, v}) }
		switch m.Type {
		case instructions.MountTypeCache:
			v := c.volume(st, cmd, m)
			if v == nil {
				continue
			}
			add("cache", v.name)
			add("path", target)
			if m.ReadOnly {
				add("readonly", true)
			}
			if m.From != "" || m.Source != "" {
				src, ok := c.seed(st, cmd, m)
				if !ok {
					continue
				}
				add("source", src)
			}
		case instructions.MountTypeBind:
			add("type", "bind")
			if m.From != "" {
				from, ok := c.ref(cmd, m.From)
				if !ok {
					continue
				}
				add("from", from)
			}
			if m.Source != "" {
				add("src", c.text(m.Source))
			}
			add("path", target)
			if !m.ReadOnly {
				add("readonly", false)
			}
		case instructions.MountTypeTmpfs:
			add("type", "tmpfs")
			add("path", target)
			if m.SizeLimit > 0 {
				add("size", m.SizeLimit)
			}
		case instructions.MountTypeSecret, instructions.MountTypeSSH:
			add("type", string(m.Type))
			if m.CacheID != "" {
				add("id", c.text(m.CacheID))
			}
			if m.Target != "" {
				add("path", target)
			}
			if m.Env != nil {
				add("env", c.text(*m.Env))
			}
			if m.Required {
				add("required", true)
			}
			if m.UID != nil {
				add("uid", *m.UID)
			}
			if m.GID != nil {
				add("gid", *m.GID)
			}
			if m.Mode != nil {
				add("mode", fmt.Sprintf("%04o", *m.Mode))
			}
		default:
			c.fail(st, cmd, fmt.Sprintf("RUN --mount=type=%s has no equivalent", m.Type), "")
			continue
		}
		out = append(out, &item{value: f, line: c.line})
	}
	return out
}

// mountTarget is a mount's target, a relative one joined to the working
// directory as dockerfile2llb joins it.
func (c *converter) mountTarget(st *stageState, cmd *instructions.RunCommand, m *instructions.Mount) (string, bool) {
	t, ok := st.absPath(m.Target)
	if !ok {
		c.fail(st, cmd, fmt.Sprintf("the mount's target %s is relative to the base image's working directory, which the conversion cannot see", c.readable(m.Target)),
			"write the absolute path: the working directory joined with "+c.readable(m.Target))
		return "", false
	}
	return c.text(t), true
}

// ref is a --from: the step of a stage defined before this instruction,
// else an image. BuildKit refuses a stage defined after it (or itself).
func (c *converter) ref(cmd instructions.Command, from string) (any, bool) {
	key := strings.ToLower(from)
	if st, ok := c.stages[key]; ok {
		return st.final(), true
	}
	if c.stageNames[key] {
		c.invalid(cmd, fmt.Sprintf("--from=%s names a stage that is not defined before this one", from),
			"move stage "+from+" above this instruction's stage, as BuildKit requires")
		return nil, false
	}
	return c.text(from), true
}

// seed is a cache mount's from=/source=, which Stowage reads as the seed
// of a fresh volume.
func (c *converter) seed(st *stageState, cmd *instructions.RunCommand, m *instructions.Mount) ([]field, bool) {
	src := m.Source
	if src == "" {
		src = "/"
	}
	if m.From == "" {
		return []field{{"context", c.text(src)}}, true
	}
	ref, ok := c.ref(cmd, m.From)
	if !ok {
		return nil, false
	}
	from, ok := ref.(*step)
	if !ok {
		c.fail(st, cmd, fmt.Sprintf("the cache mount's from=%s is an image; Stowage seeds a volume from a step or the context", m.From),
			"add a stage FROM "+m.From+" and seed from it")
		return nil, false
	}
	return []field{{"step", from}, {"path", c.text(src)}}, true
}

// volume is the volume of a cache mount's id (by default its target, as
// Dockerfile's), declared once.
func (c *converter) volume(st *stageState, cmd *instructions.RunCommand, m *instructions.Mount) *volume {
	id := m.CacheID
	if id == "" {
		// As dockerfile2llb: the target as written, cleaned.
		id = path.Clean(m.Target)
	}
	if name := c.stageOnlyArg(st, id); name != "" {
		c.fail(st, cmd, fmt.Sprintf("the cache id %s uses the stage's own ARG %s; a volume's key sees only the args declared before the first FROM", c.readable(id), name),
			"declare ARG "+name+" with its default before the first FROM, and ARG "+name+" (no default) in the stage")
		return nil
	}
	want := &volume{id: c.text(id), sharing: string(m.CacheSharing), line: c.line}
	if want.sharing == string(instructions.MountSharingShared) {
		want.sharing = ""
	}
	if m.UID != nil || m.GID != nil || st.nonRoot {
		// Dockerfile's cache mounts are root's unless uid/gid say; a
		// Stowage volume would be the step's user's.
		want.owner = fmt.Sprintf("%d:%d", deref(m.UID), deref(m.GID))
	}
	if m.Mode != nil {
		want.mode = fmt.Sprintf("%04o", *m.Mode)
	}
	if v, ok := c.volumes[want.id]; ok {
		// No owner is root's under a root step: the same as "0:0".
		if v.owner == "" && want.owner == "0:0" {
			v.owner = want.owner
		}
		if want.owner == "" && v.owner == "0:0" {
			want.owner = v.owner
		}
		if v.sharing != want.sharing || v.owner != want.owner || v.mode != want.mode {
			c.fail(st, cmd, fmt.Sprintf("cache id %s is mounted at line %d with other sharing, uid, gid or mode; Dockerfile keeps such mounts apart, a Stowage volume has one setting", want.id, v.line),
				"give this mount its own id=")
			return nil
		}
		return v
	}
	want.name = c.volumeName(want.id)
	c.volumes[want.id] = want
	c.vorder = append(c.vorder, want)
	return want
}

// stageOnlyArg is an arg in word that the stage declares with a default of
// its own, or "": volumes are declared at the top, where only the
// Dockerfile's meta args (and the platform args) are.
func (c *converter) stageOnlyArg(st *stageState, word string) string {
	for _, m := range sentinelRef.FindAllStringSubmatch(word, -1) {
		n, _ := strconv.Atoi(m[1])
		name := c.sentinels[n]
		for _, a := range st.args {
			if a.name == name && a.value != nil {
				return name
			}
		}
	}
	return ""
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

// volumeName is a handle for a cache id: its words, joined by dashes.
func (c *converter) volumeName(id string) string {
	base := scaffold.Slug(id, "cache")
	name := base
	for i := 2; ; i++ {
		taken := false
		for _, v := range c.vorder {
			taken = taken || v.name == name
		}
		if !taken {
			return name
		}
		name = base + "-" + strconv.Itoa(i)
	}
}
