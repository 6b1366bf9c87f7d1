// Package ctxhash computes the {hash: [GLOB, …]} key token of
// docs/cache-ids.md: a digest of the build context's files that match a set
// of globs. It knows nothing of BuildKit; callers hand it an FS (a local
// directory for the CLI, a solved reference inside a build).
package ctxhash

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Entry is one directory entry of an FS.
type Entry struct {
	// Name is the entry's base name.
	Name string
	// Type is the entry's type bits (fs.ModeDir, fs.ModeSymlink, 0 for a
	// regular file, …).
	Type fs.FileMode
	// Linkname is a symlink's target text, as stored; empty otherwise.
	Linkname string
}

// FS is the little of a file tree Sum needs. Names are slash-separated and
// relative to the tree's root; the root is ".".
type FS interface {
	// ReadDir lists a directory, in any order.
	ReadDir(dir string) ([]Entry, error)
	// ReadFile returns a regular file's bytes.
	ReadFile(name string) ([]byte, error)
}

// Sum returns "sha256:" + the hex SHA-256 of, for each regular file or
// symlink of fsys whose relative path matches any of globs, in byte order of
// the path: netstring(path) then netstring(hex SHA-256 of the content). A
// symlink's content is its target text; it is never followed. Directories
// and other file types are skipped.
//
// A glob is matched against the whole slash-separated relative path, one
// path.Match pattern per segment, except that a "**" segment matches any
// number (zero included) of segments: "package-lock.json" is the file at
// the root only, "**/package-lock.json" is that file at any depth, "src/**"
// is everything under src ("src" alone matches a file named src, not a
// directory's contents). A leading "./" is dropped; an absolute glob or one
// reaching above the root is an error. No matching file is an error naming
// the globs.
func Sum(fsys FS, globs []string) (string, error) {
	if len(globs) == 0 {
		return "", errors.New("no glob to hash")
	}
	pats := make([][]string, len(globs))
	for i, g := range globs {
		p, err := compile(g)
		if err != nil {
			return "", err
		}
		pats[i] = p
	}
	var files []file
	if err := walk(fsys, ".", pats, &files); err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no file of the build context matches %s", quoteAll(globs))
	}
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.path, b.path) })
	h := sha256.New()
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		h.Write(netstring(f.path))
		h.Write(netstring(hex.EncodeToString(sum[:])))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

type file struct {
	path string
	data []byte
}

func walk(fsys FS, dir string, pats [][]string, out *[]file) error {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := e.Name
		if dir != "." {
			p = dir + "/" + e.Name
		}
		segs := strings.Split(p, "/")
		switch {
		case e.Type.IsDir():
			if slices.ContainsFunc(pats, func(pat []string) bool { return matchPrefix(pat, segs) }) {
				if err := walk(fsys, p, pats, out); err != nil {
					return err
				}
			}
		case e.Type&fs.ModeSymlink != 0:
			if matchAny(pats, segs) {
				*out = append(*out, file{path: p, data: []byte(e.Linkname)})
			}
		case e.Type.IsRegular():
			if matchAny(pats, segs) {
				data, err := fsys.ReadFile(p)
				if err != nil {
					return err
				}
				*out = append(*out, file{path: p, data: data})
			}
		}
	}
	return nil
}

// CheckGlob reports what is wrong with glob g, or nil: the checks Sum makes
// before it reads any file, so a spec can be checked without a context.
func CheckGlob(g string) error {
	_, err := compile(g)
	return err
}

// compile splits a glob into segments and checks each is a valid pattern.
func compile(g string) ([]string, error) {
	clean := path.Clean(g)
	if g == "" || path.IsAbs(g) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, fmt.Errorf("glob %q: write a path relative to the build context, like package-lock.json or **/go.sum", g)
	}
	segs := strings.Split(clean, "/")
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return nil, fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return segs, nil
}

func matchAny(pats [][]string, segs []string) bool {
	return slices.ContainsFunc(pats, func(pat []string) bool { return match(pat, segs) })
}

// match reports whether the whole path segs matches pat.
func match(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if match(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], segs[0])
	return ok && match(pat[1:], segs[1:])
}

// matchPrefix reports whether some path under the directory segs could
// match pat, so walk descends only where it must.
func matchPrefix(pat, segs []string) bool {
	if len(segs) == 0 {
		return len(pat) > 0
	}
	if len(pat) == 0 {
		return false
	}
	if pat[0] == "**" {
		return true
	}
	ok, _ := path.Match(pat[0], segs[0])
	return ok && matchPrefix(pat[1:], segs[1:])
}

func netstring(s string) []byte {
	return []byte(strconv.Itoa(len(s)) + ":" + s + ",")
}

func quoteAll(globs []string) string {
	q := make([]string, len(globs))
	for i, g := range globs {
		q[i] = strconv.Quote(g)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// DirFS is an FS over a local directory, for the CLI.
type DirFS string

// ReadDir lists dir under the root, without following symlinks.
func (d DirFS) ReadDir(dir string) ([]Entry, error) {
	ents, err := os.ReadDir(d.join(dir))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		en := Entry{Name: e.Name(), Type: e.Type()}
		if e.Type()&fs.ModeSymlink != 0 {
			if en.Linkname, err = os.Readlink(d.join(path.Join(dir, e.Name()))); err != nil {
				return nil, err
			}
		}
		out = append(out, en)
	}
	return out, nil
}

// ReadFile reads name under the root.
func (d DirFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(d.join(name)) }

func (d DirFS) join(name string) string { return filepath.Join(string(d), filepath.FromSlash(name)) }

// TransferPatterns returns include patterns (for llb.IncludePatterns) that
// send at least every path Sum matches with globs. A "**" segment may match
// no segment at all, so "link/**" matches a symlink named link, which
// fsutil's "link/**" would not send: each glob is listed also with its "**"
// segments dropped, one way and another.
func TransferPatterns(globs []string) []string {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, g := range globs {
		segs := strings.Split(path.Clean(g), "/")
		var expand func(i int, acc []string)
		expand = func(i int, acc []string) {
			if len(out) > 64*len(globs) {
				return // a glob of many ** is sent whole by its first forms
			}
			if i == len(segs) {
				add(strings.Join(acc, "/"))
				return
			}
			expand(i+1, append(slices.Clip(acc), segs[i]))
			if segs[i] == "**" {
				expand(i+1, acc)
			}
		}
		add(g)
		expand(0, nil)
	}
	return out
}
