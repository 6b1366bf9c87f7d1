package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/stowage-build/stowage/ctxhash"
)

// localTokens computes key tokens without a daemon: {hash: …} from a local
// directory standing for the build context. {digest: …} needs the registry
// as the builder sees it, so it is an error here rather than a guess.
type localTokens struct {
	dir string
	// ignore is the spec's STOWAGE.yaml.dockerignore if it exists, else the
	// context's .dockerignore, as a build picks it; empty: none.
	ignore string
}

// contextDir is --context, or the directory of the spec file.
func (c *common) contextDir() string {
	if c.contextPath != "" {
		return c.contextPath
	}
	return filepath.Dir(c.file)
}

// newLocalTokens finds the ignore file a build of spec with context dir
// would apply: SPEC.dockerignore beside the spec wins over the context's
// .dockerignore, as dockerui picks them.
func newLocalTokens(dir, spec string) localTokens {
	t := localTokens{dir: dir}
	for _, f := range []string{spec + ".dockerignore", filepath.Join(dir, ".dockerignore")} {
		if _, err := os.Stat(f); err == nil {
			t.ignore = f
			break
		}
	}
	return t
}

// HashFiles hashes the files of the local context matching globs, leaving
// out what the ignore file excludes, so the CLI and a build agree.
func (t localTokens) HashFiles(_ context.Context, globs []string) (string, error) {
	var fsys ctxhash.FS = ctxhash.DirFS(t.dir)
	if t.ignore != "" {
		f, err := os.Open(t.ignore)
		if err != nil {
			return "", err
		}
		pats, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", t.ignore, err)
		}
		pm, err := patternmatcher.New(pats)
		if err != nil {
			return "", fmt.Errorf("%s: %w", t.ignore, err)
		}
		fsys = ignoreFS{FS: fsys, pm: pm}
	}
	sum, err := ctxhash.Sum(fsys, globs)
	if err != nil {
		return "", fmt.Errorf("context %s: %w", t.dir, err)
	}
	return sum, nil
}

// ignoreFS hides the files an ignore file excludes. Directories stay
// listed, since a later "!" pattern may bring back a file inside one.
type ignoreFS struct {
	ctxhash.FS
	pm *patternmatcher.PatternMatcher
}

func (f ignoreFS) ReadDir(dir string) ([]ctxhash.Entry, error) {
	ents, err := f.FS.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := ents[:0]
	for _, e := range ents {
		if !e.Type.IsDir() {
			excluded, err := f.pm.MatchesOrParentMatches(path.Join(dir, e.Name))
			if err != nil {
				return nil, err
			}
			if excluded {
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// ImageDigest fails: only a build resolves images.
func (localTokens) ImageDigest(_ context.Context, ref string) (string, error) {
	return "", fmt.Errorf("{digest: %s} is the image's digest as the builder resolves it, which needs a build; see this volume's ID with `docker buildx build --call=outline`", ref)
}
