package spec

import (
	"fmt"
	mode "github.com/tonistiigi/dchapes-mode"
	"maps"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	digest "github.com/opencontainers/go-digest"
	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec/syntax"
)

// copies decodes a step's copies: COPY's and ADD's sources and flags.
func (d *decoder) copies(n *yaml.Node, p string) []*Copy {
	var out []*Copy
	for i, item := range d.list(n, p, "a list of {src: PATH, dest: PATH}") {
		cpath := index(p, i)
		c := &Copy{From: Source{Kind: SourceContext}, Range: rangeOf(item)}
		var cf copyFrom
		var g syntax.Copy
		c.ranges = d.read(item, cpath, "{src: PATH, dest: PATH}", &g)
		d.copyFields(c, &g, &cf, cpath)
		d.checkCopy(c, cpath)
		d.checkCopyFrom(c, &cf, cpath)
		if c.Dest == "" {
			d.add(c.Range, join(cpath, "dest"), "add `dest: PATH`", "copy has no dest")
		}
		out = append(out, c)
	}
	return out
}

// copyFields decodes a copy's fields.
func (d *decoder) copyFields(c *Copy, g *syntax.Copy, cf *copyFrom, cpath string) {
	if v, p := at(g.From, cpath); v != nil {
		if from, ok := d.strOK(v, p, "a step name or context"); ok {
			d.source(&c.From, from, c.FieldRange("from"), p)
		}
	}
	if v, p := at(g.Src, cpath); v != nil {
		c.Src = d.str(v, p, "a path")
	}
	if v, p := at(g.Dest, cpath); v != nil {
		c.Dest = d.str(v, p, "a path")
	}
	// ADD's sources besides src:, and their flags.
	if v, p := at(g.URL, cpath); v != nil {
		cf.url, _ = d.strOK(v, p, "an http or https URL")
	}
	if v, p := at(g.Git, cpath); v != nil {
		cf.git, _ = d.strOK(v, p, "a Git URL")
	}
	if v, p := at(g.Content, cpath); v != nil {
		cf.content = d.str(v, p, "the file's text")
	}
	if v, p := at(g.Checksum, cpath); v != nil {
		c.Checksum = d.str(v, p, "a checksum")
	}
	if v, p := at(g.KeepGitDir, cpath); v != nil {
		c.KeepGitDir = d.bool(v, p)
	}
	if v, p := at(g.Unpack, cpath); v != nil {
		c.Unpack = d.bool(v, p)
	}
	// COPY's flags.
	if v, p := at(g.Chown, cpath); v != nil {
		var ok bool
		if c.Chown, ok = d.strOK(v, p, `"user[:group]"`); ok {
			u, g, _ := strings.Cut(c.Chown, ":")
			if u == "" || strings.Contains(g, ":") || strings.ContainsAny(c.Chown, " \t\n") {
				d.add(c.FieldRange("chown"), p, `write "user", "user:group", "uid" or "uid:gid", like "app:app" or "1000:1000"`, "chown %q is not user[:group]", c.Chown)
			}
		}
	}
	if v, p := at(g.Chmod, cpath); v != nil {
		var ok bool
		if c.Chmod, ok = d.strOK(v, p, `a mode like "0644" or "u+x"`); ok && !validChmod(c.Chmod) {
			d.add(c.FieldRange("chmod"), p, `write an octal mode up to 07777 like "0644", or a symbolic one like "u+x,go-w"`, "%q is not a mode", c.Chmod)
		}
	}
	if v, p := at(g.Exclude, cpath); v != nil {
		c.Exclude = d.excludes(v, p)
	}
	if v, p := at(g.Link, cpath); v != nil {
		c.Link = d.bool(v, p)
	}
	if v, p := at(g.Parents, cpath); v != nil {
		c.Parents = d.bool(v, p)
	}
}

// excludes decodes a copy's exclude: one pattern or a list, as in
// .dockerignore.
func (d *decoder) excludes(v *yaml.Node, p string) []string {
	n := d.resolve(v)
	items, paths := []*yaml.Node{n}, []string{p}
	switch {
	case n.Kind == yaml.SequenceNode:
		items, paths = n.Content, make([]string, len(n.Content))
		for i := range items {
			paths[i] = index(p, i)
		}
	case n.Kind != yaml.ScalarNode || isNull(n):
		d.add(rangeOf(n), p, "write a pattern, or a list like [*.md, **/testdata]", "expected a list of patterns, found %s", describe(n))
		return nil
	}
	var out []string
	for i, item := range items {
		pat, ok := d.strOK(item, paths[i], "a pattern")
		if !ok {
			continue
		}
		r := rangeOf(d.resolve(item))
		if pat == "" {
			d.add(r, paths[i], "write a pattern like *.md or **/testdata, or remove the entry", "empty exclude pattern")
			continue
		}
		if _, err := path.Match(strings.TrimPrefix(pat, "!"), ""); err != nil {
			d.add(r, paths[i], "write a pattern as in .dockerignore, like *.md or **/testdata", "%q is not a valid pattern", pat)
			continue
		}
		out = append(out, pat)
	}
	return out
}

// checkCopy applies the rules between a copy's fields.
func (d *decoder) checkCopy(c *Copy, p string) {
	if c.Link && chownByName(c.Chown) {
		d.add(c.FieldRange("chown"), join(p, "chown"), `use numeric ids, like "1000:1000"`,
			"chown %q names a user or group, which link: true cannot resolve: it copies into an empty layer with no /etc/passwd", c.Chown)
	}
}

// chownByName reports whether chown names a user or group rather than
// numbers, as BuildKit parses it ("root" is uid 0).
func chownByName(chown string) bool {
	if chown == "" {
		return false
	}
	u, g, _ := strings.Cut(chown, ":")
	byName := func(s string) bool {
		if s == "" || s == "root" {
			return false
		}
		_, err := strconv.ParseUint(s, 10, 32)
		return err != nil
	}
	return byName(u) || byName(g)
}

// validChmod accepts what COPY --chmod does: an octal mode up to 07777, or
// a symbolic mode as chmod(1) takes it.
func validChmod(s string) bool {
	_, _, err := ParseChmod(s)
	return err == nil
}

// ParseChmod reads a copy's chmod as the Dockerfile frontend reads COPY
// --chmod, with the parser it uses: an octal mode up to 07777 (octal true),
// else a symbolic one ("u+x,go-w"), which BuildKit applies per file.
func ParseChmod(s string) (m os.FileMode, octal bool, err error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, false, fmt.Errorf("%q is not an octal mode from 0 to 07777", s)
		}
		return os.FileMode(n), true, nil
	}
	if _, err := mode.Parse(s); err != nil || s == "" {
		return 0, false, fmt.Errorf("%q is not a mode like 0644 or u+x", s)
	}
	return 0, false, nil
}

// copyFrom is what a copy's fields said about where it reads, kept apart
// from Copy so the checks see what was written, in any field order.
type copyFrom struct {
	url, git, content string
}

// CopySources are the fields that name what a copy reads; a copy has
// exactly one.
var CopySources = syntax.CopySources

// copyFieldOrder is the fields that apply to some sources only, in a fixed
// order, for errors.
var copyFieldOrder = slices.Sorted(maps.Keys(syntax.CopyFieldSources))

// checkCopyFrom applies the rules between a copy's source and its other
// fields, and makes From the source of a url:, git: or content: copy.
func (d *decoder) checkCopyFrom(c *Copy, cf *copyFrom, p string) {
	var buf [4]string // one per CopySources; on the stack
	written := buf[:0]
	for _, s := range CopySources {
		if s == "src" && c.Src != "" || s != "src" && c.has(s) {
			written = append(written, s)
		}
	}
	switch len(written) {
	case 0:
		d.add(c.Range, join(p, "src"), "add `src: PATH` (use . for the whole context), or `url: URL` or `git: URL` to fetch, or `content: TEXT` to write a file", "copy has no src")
		return
	case 1:
	default:
		d.add(c.FieldRange(written[1]), join(p, written[1]), "write one copy for each", "a copy reads from one of src:, url:, git: and content:, not %s: and %s:", written[0], written[1])
		return
	}
	source := written[0]
	for _, field := range copyFieldOrder {
		rule := syntax.CopyFieldSources[field]
		if c.has(field) && !slices.Contains(rule.Sources, source) {
			d.add(c.FieldRange(field), join(p, field), rule.Hint, "%s: does not apply to a %s: copy", field, source)
		}
	}
	switch source {
	case "url":
		d.checkURL(c, cf.url, p)
	case "git":
		d.checkGit(c, cf.git, p)
	case "content":
		c.From, c.Content = Source{Kind: SourceContent}, cf.content
		if base := path.Base(c.Dest); c.Dest != "" && (strings.HasSuffix(c.Dest, "/") || base == "." || base == "..") {
			d.add(c.FieldRange("dest"), join(p, "dest"), "write the file's path, like /etc/app.conf", "dest %q is a directory: a content: copy writes one file", c.Dest)
		}
	}
}

func (d *decoder) checkURL(c *Copy, raw, p string) {
	c.From = Source{Kind: SourceURL, Ref: raw}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.add(c.FieldRange("url"), join(p, "url"), "write an http or https URL like https://example.com/tool.tar.gz (for a repository, write git: URL)", "%q is not an http or https URL", raw)
	}
	if c.Checksum != "" {
		if _, err := digest.Parse(c.Checksum); err != nil {
			d.add(c.FieldRange("checksum"), join(p, "checksum"), "write the file's digest, like sha256:<64 hex digits> (sha256sum FILE prints the digits)", "checksum %q is not a digest: %v", c.Checksum, err)
		}
	}
}

// gitCommit is what ADD --checksum takes for a Git source: a commit, in
// full (SHA-1 or SHA-256) or abbreviated.
var gitCommit = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

func (d *decoder) checkGit(c *Copy, raw, p string) {
	c.From = Source{Kind: SourceGit, Ref: raw}
	at, r := join(p, "git"), c.FieldRange("git")
	ref, isGit, err := dfgitutil.ParseGitRef(raw)
	switch {
	case err != nil || !isGit || ref == nil:
		d.add(r, at, "write a Git URL like https://github.com/org/repo.git#v1.2.3 or git@github.com:org/repo.git, with #REF:SUBDIR to pick a ref and a directory", "%q is not a Git URL", raw)
		return
	case ref.IndistinguishableFromLocal:
		d.add(r, at, "write the URL in full, like https://"+raw+".git", "%q could be a path", raw)
		return
	}
	c.Git = &GitSource{Remote: ref.Remote, Ref: ref.Ref, Subdir: ref.SubDir, SkipSubmodules: ref.Submodules != nil && !*ref.Submodules}
	// The URL's ?keep-git-dir= and ?checksum= say what the fields do; they
	// must agree, as in Dockerfile's ADD.
	if ref.KeepGitDir != nil {
		if c.has("keep-git-dir") && c.KeepGitDir != *ref.KeepGitDir {
			d.add(c.FieldRange("keep-git-dir"), join(p, "keep-git-dir"), "keep one of the two", "keep-git-dir: %t disagrees with the URL's keep-git-dir=%t", c.KeepGitDir, *ref.KeepGitDir)
		}
		c.KeepGitDir = *ref.KeepGitDir
	}
	if ref.Checksum != "" {
		if c.has("checksum") && c.Checksum != ref.Checksum {
			d.add(c.FieldRange("checksum"), join(p, "checksum"), "keep one of the two", "checksum: %s disagrees with the URL's checksum=%s", c.Checksum, ref.Checksum)
		}
		c.Checksum = ref.Checksum
	}
	if c.Checksum != "" && !gitCommit.MatchString(c.Checksum) {
		d.add(c.FieldRange("checksum"), join(p, "checksum"), "write the commit, in full or at least its first 7 hex digits, like 4b825dc", "checksum %q is not a commit", c.Checksum)
	}
}
