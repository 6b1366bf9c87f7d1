package convert

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// copyFlags are COPY's and ADD's flags, expanded.
type copyFlags struct {
	add                bool
	from, chown, chmod string
	link, parents      bool
	exclude            []string
	keepGitDir, unpack *bool
	checksum           string
}

// copy adds a COPY or ADD, one copy per source: copies come before the
// step's runs, so one after a RUN starts a new step.
func (c *converter) copy(st *stageState, cmd instructions.Command, fl copyFlags, sd instructions.SourcesAndDest) {
	if len(st.cur.runs) > 0 {
		st.split(c.line)
	}
	dest := c.text(sd.DestPath)
	if dest == "" {
		// As dockerfile2llb: an empty destination is the working directory.
		dest = "./"
	}
	flags := func(f []field, local bool) []field {
		if fl.chown != "" {
			f = append(f, field{"chown", c.text(fl.chown)})
		}
		if fl.chmod != "" {
			f = append(f, field{"chmod", c.text(fl.chmod)})
		}
		if local && len(fl.exclude) > 0 {
			f = append(f, field{"exclude", c.texts(fl.exclude)})
		}
		if local && fl.parents {
			f = append(f, field{"parents", true})
		}
		if fl.link {
			f = append(f, field{"link", true})
		}
		return f
	}
	comments := cmd.Comments()
	push := func(f []field) {
		st.cur.copies = append(st.cur.copies, &item{value: f, line: c.line, comments: comments})
		comments = nil
	}
	for _, src := range sd.SourcePaths {
		// Classified as written, each arg as ${NAME}: an arg's sentinel
		// is no character a URL may hold.
		shown := c.readable(src)
		if fl.add && strings.HasPrefix(src, string(sentinelMark)) {
			c.fail(st, cmd, fmt.Sprintf("ADD %s: whether it is a URL, a Git repository or a context path is up to the arg's value", shown),
				"write the start of the source (https://…, git@…, or a path) and keep the arg for the rest")
			continue
		}
		var f []field
		switch {
		case fl.add && isGit(shown):
			f = append(f, field{"git", c.text(src)}, field{"dest", dest})
			if fl.keepGitDir != nil && *fl.keepGitDir {
				f = append(f, field{"keep-git-dir", true})
			}
			if fl.checksum != "" {
				f = append(f, field{"checksum", c.text(fl.checksum)})
			}
			f = flags(f, true)
		case fl.add && isURL(shown):
			f = append(f, field{"url", c.text(src)}, field{"dest", dest})
			if fl.checksum != "" {
				f = append(f, field{"checksum", c.text(fl.checksum)})
			}
			if fl.unpack != nil && *fl.unpack {
				f = append(f, field{"unpack", true})
			}
			f = flags(f, false)
		default:
			if fl.from != "" {
				from, ok := c.ref(cmd, fl.from)
				if !ok {
					return
				}
				f = append(f, field{"from", from})
			}
			if fl.from != "" && !fl.parents && !path.IsAbs(src) && !strings.HasPrefix(src, string(sentinelMark)) {
				// COPY --from reads from the source's root; a Stowage
				// copy, in a step's workdir.
				src = path.Join("/", src)
			}
			f = append(f, field{"src", c.text(src)}, field{"dest", dest})
			// ADD unpacks a local archive and copies anything else as is,
			// which is what unpack: true does.
			if fl.add && (fl.unpack == nil || *fl.unpack) {
				f = append(f, field{"unpack", true})
			}
			f = flags(f, true)
		}
		push(f)
	}
	for _, sc := range sd.SourceContents {
		d := dest
		if strings.HasSuffix(d, "/") {
			d = path.Join(d, sc.Path)
		}
		push(flags([]field{{"content", c.text(sc.Data)}, {"dest", d}}, false))
	}
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

// isGit is a Git URL as ADD reads one: git@…, git://…, or an http(s) URL
// of a .git repository.
func isGit(s string) bool {
	if strings.HasPrefix(s, "git@") || strings.HasPrefix(s, "git://") || strings.HasPrefix(s, "ssh://") {
		return true
	}
	if !isURL(s) {
		return false
	}
	u, _ := url.Parse(s)
	return strings.HasSuffix(u.Path, ".git")
}
