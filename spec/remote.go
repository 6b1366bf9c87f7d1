package spec

import (
	"net/url"
	"regexp"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	digest "github.com/opencontainers/go-digest"
	"go.yaml.in/yaml/v3"
)

// remoteCopy is what a copy's fields said about where it reads, kept
// apart from Copy so the checks see what was written, in any field order.
type remoteCopy struct {
	url, git     string
	urlAt, gitAt Range
	// from and src are the ranges of from: and src:; hasFrom says from:
	// was written.
	from, src Range
	hasFrom   bool
}

// remoteOptions are the handlers of a copy's ADD-like fields: url: and git:
// (the remote sources), checksum:, keep-git-dir: and unpack:.
func (d *decoder) remoteOptions(c *Copy, rc *remoteCopy) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		"url": func(v *yaml.Node, p string) {
			rc.urlAt = rangeOf(d.resolve(v))
			c.ranges.set("url", rc.urlAt)
			rc.url, _ = d.strOK(v, p, "an http or https URL")
		},
		"git": func(v *yaml.Node, p string) {
			rc.gitAt = rangeOf(d.resolve(v))
			c.ranges.set("git", rc.gitAt)
			rc.git, _ = d.strOK(v, p, "a Git URL")
		},
		"checksum": func(v *yaml.Node, p string) {
			c.ranges.set("checksum", rangeOf(d.resolve(v)))
			c.Checksum = d.str(v, p, "a checksum")
		},
		"keep-git-dir": func(v *yaml.Node, p string) {
			c.ranges.set("keep-git-dir", rangeOf(d.resolve(v)))
			c.KeepGitDir = d.bool(v, p)
		},
		"unpack": func(v *yaml.Node, p string) {
			c.ranges.set("unpack", rangeOf(d.resolve(v)))
			c.Unpack = d.bool(v, p)
		},
	}
}

// gitCommit is what ADD --checksum takes for a Git source: a commit, in
// full (SHA-1 or SHA-256) or abbreviated.
var gitCommit = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// checkRemote applies the rules of url: and git: copies, and makes their
// From the remote source.
func (d *decoder) checkRemote(c *Copy, rc *remoteCopy, p string) {
	hasChecksum, hasKeep := c.has("checksum"), c.has("keep-git-dir")
	switch {
	case rc.url != "" && rc.git != "":
		d.add(rc.gitAt, join(p, "git"), "write one copy for the file and another for the repository", "a copy reads from url: or git:, not both")
		return
	case (rc.url != "" || rc.git != "") && c.Src != "":
		d.add(rc.src, join(p, "src"), "remove src: (a url: copy takes the file the URL names; for part of a repository write git: URL#REF:SUBDIR)", "src: reads from the context or a step, not from url: or git:")
		return
	case rc.url == "" && rc.git == "":
		if hasChecksum {
			d.add(c.FieldRange("checksum"), join(p, "checksum"), "remove it: a copy from the context or a step is pinned by its own content", "checksum: pins a url: or git: copy")
		}
		if hasKeep {
			d.add(c.FieldRange("keep-git-dir"), join(p, "keep-git-dir"), "remove it, or copy from git: URL", "keep-git-dir: applies to a git: copy")
		}
		return
	}
	if rc.hasFrom {
		d.add(rc.from, join(p, "from"), "remove from: (url: and git: fetch the source themselves)", "from: does not apply to a url: or git: copy")
	}
	if c.has("parents") {
		d.add(c.FieldRange("parents"), join(p, "parents"), "remove it", "parents: applies to a copy from src:")
	}
	if rc.url != "" {
		d.checkURL(c, rc, p, hasKeep)
		return
	}
	d.checkGit(c, rc, p, hasChecksum)
}

func (d *decoder) checkURL(c *Copy, rc *remoteCopy, p string, hasKeep bool) {
	c.From = Source{Kind: SourceURL, Ref: rc.url}
	u, err := url.Parse(rc.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.add(rc.urlAt, join(p, "url"), "write an http or https URL like https://example.com/tool.tar.gz (for a repository, write git: URL)", "%q is not an http or https URL", rc.url)
	}
	if c.Checksum != "" {
		if _, err := digest.Parse(c.Checksum); err != nil {
			d.add(c.FieldRange("checksum"), join(p, "checksum"), "write the file's digest, like sha256:<64 hex digits> (sha256sum FILE prints the digits)", "checksum %q is not a digest: %v", c.Checksum, err)
		}
	}
	if hasKeep {
		d.add(c.FieldRange("keep-git-dir"), join(p, "keep-git-dir"), "remove it, or copy from git: URL", "keep-git-dir: applies to a git: copy")
	}
	if c.has("exclude") {
		d.add(c.FieldRange("exclude"), join(p, "exclude"), "remove exclude: (a url: copy is one file)", "exclude: does not apply to a url: copy")
	}
}

func (d *decoder) checkGit(c *Copy, rc *remoteCopy, p string, hasChecksum bool) {
	c.From = Source{Kind: SourceGit, Ref: rc.git}
	at := join(p, "git")
	if c.has("unpack") {
		d.add(c.FieldRange("unpack"), join(p, "unpack"), "remove it (a git: copy is a checkout, not an archive)", "unpack: does not apply to a git: copy")
	}
	ref, isGit, err := dfgitutil.ParseGitRef(rc.git)
	switch {
	case err != nil || !isGit || ref == nil:
		d.add(rc.gitAt, at, "write a Git URL like https://github.com/org/repo.git#v1.2.3 or git@github.com:org/repo.git, with #REF:SUBDIR to pick a ref and a directory", "%q is not a Git URL", rc.git)
		return
	case ref.IndistinguishableFromLocal:
		d.add(rc.gitAt, at, "write https://"+rc.git+".git", "%q could be a path: write the Git URL in full", rc.git)
		return
	}
	g := &GitSource{Remote: ref.Remote, Ref: ref.Ref, Subdir: ref.SubDir}
	if ref.Submodules != nil && !*ref.Submodules {
		g.SkipSubmodules = true
	}
	c.Git = g
	// The URL's ?keep-git-dir= and ?checksum= say what the fields do; they
	// must agree, as in Dockerfile's ADD.
	if ref.KeepGitDir != nil {
		if c.has("keep-git-dir") && c.KeepGitDir != *ref.KeepGitDir {
			d.add(c.FieldRange("keep-git-dir"), join(p, "keep-git-dir"), "keep one of the two", "keep-git-dir: %t disagrees with the URL's keep-git-dir=%t", c.KeepGitDir, *ref.KeepGitDir)
		}
		c.KeepGitDir = *ref.KeepGitDir
	}
	if ref.Checksum != "" {
		if hasChecksum && c.Checksum != ref.Checksum {
			d.add(c.FieldRange("checksum"), join(p, "checksum"), "keep one of the two", "checksum: %s disagrees with the URL's checksum=%s", c.Checksum, ref.Checksum)
		}
		c.Checksum = ref.Checksum
	}
	if c.Checksum != "" && !gitCommit.MatchString(c.Checksum) {
		d.add(c.FieldRange("checksum"), join(p, "checksum"), "write the commit, in full or at least its first 7 hex digits, like 4b825dc", "checksum %q is not a commit", c.Checksum)
	}
}
