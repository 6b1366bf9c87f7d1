package spec

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzLoad feeds Load arbitrary bytes, seeded with every spec in testdata
// and in the repository's examples. Load must not panic, must return a spec
// or positioned errors (never both, never neither), and a spec it accepts
// must hold what llbgen relies on without checking.
func FuzzLoad(f *testing.F) {
	for _, root := range []string{"testdata", filepath.Join("..", "examples")} {
		// examples/ may not exist yet: WalkDir's error is ignored on purpose.
		_ = filepath.WalkDir(root, func(file string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(file, ".yaml") {
				return nil
			}
			data, err := os.ReadFile(file)
			if err == nil {
				f.Add(data)
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load(data, Options{BuildArgs: map[string]string{"GO_VERSION": "1.27"}, PlatformArgs: testPlatformArgs()})
		switch {
		case err != nil && s != nil:
			t.Fatalf("Load returned a spec and errors: %v", err)
		case err == nil && s == nil:
			t.Fatalf("Load returned neither a spec nor errors")
		case err != nil:
			checkErrorList(t, err)
		default:
			checkModel(t, s)
		}
	})
}

// checkModel asserts the invariants of a validated spec.
func checkModel(t *testing.T, s *Spec) {
	t.Helper()
	if s.Project == "" {
		t.Errorf("no project")
	}
	steps := map[string]*Step{}
	for _, st := range s.Steps {
		if st.Name == "" || steps[st.Name] != nil {
			t.Errorf("step name %q empty or repeated", st.Name)
		}
		steps[st.Name] = st
	}
	if len(s.Steps) == 0 || steps[s.Default] == nil {
		t.Errorf("default %q is not a step of %d", s.Default, len(s.Steps))
	}
	caches := map[string]*Volume{}
	for _, c := range s.Volumes {
		caches[c.Name] = c
		if !slices.Contains(Scopes, c.Scope) || !slices.Contains(Sharings, c.Sharing) {
			t.Errorf("cache %q: scope %q, sharing %q", c.Name, c.Scope, c.Sharing)
		}
		if len(c.Tokens) == 0 || len(c.Tokens) > maxKeyTokens {
			t.Errorf("cache %q has %d tokens", c.Name, len(c.Tokens))
		}
		if c.From != "" && caches[c.From] == nil && s.Volume(c.From) == nil {
			t.Errorf("cache %q: parent %q does not exist", c.Name, c.From)
		}
		for _, tok := range c.Tokens {
			switch k := tok.Kind.(type) {
			case HashToken:
				if len(k.Globs) == 0 || slices.Contains(k.Globs, "") {
					t.Errorf("cache %q: hash token %q", c.Name, k.Globs)
				}
			case DigestToken:
				if k.Image == "" {
					t.Errorf("cache %q: empty digest token", c.Name)
				}
			case LiteralToken:
				if k.Value == "" {
					t.Errorf("cache %q: empty token", c.Name)
				}
			default:
				t.Errorf("cache %q: token kind %T", c.Name, tok.Kind)
			}
		}
	}
	source := func(what string, src Source, self string) {
		switch src.Kind {
		case SourceStep:
			if steps[src.Ref] == nil || src.Ref == self {
				t.Errorf("%s: step %q", what, src.Ref)
			}
		case SourceImage:
			if src.Ref == "" {
				t.Errorf("%s: empty image", what)
			}
		case SourceURL, SourceGit:
			if src.Ref == "" {
				t.Errorf("%s: empty %s source", what, src.Kind)
			}
		case SourceContent:
		case SourceScratch, SourceContext:
		default:
			t.Errorf("%s: source kind %q", what, src.Kind)
		}
	}
	for _, st := range s.Steps {
		source(st.Name+".from", st.From, st.Name)
		for _, c := range st.Copy {
			source(st.Name+".copy", c.From, st.Name)
			fromSrc := c.From.Kind != SourceURL && c.From.Kind != SourceGit && c.From.Kind != SourceContent
			remote := c.From.Kind == SourceURL || c.From.Kind == SourceGit
			if fromSrc != (c.Src != "") || c.Dest == "" || c.Content != "" && c.From.Kind != SourceContent {
				t.Errorf("%s: copy %q (%s %q) to %q", st.Name, c.Src, c.From.Kind, c.From.Ref, c.Dest)
			}
			if (c.From.Kind == SourceGit) != (c.Git != nil) || c.Git != nil && c.Git.Remote == "" {
				t.Errorf("%s: git copy %q parsed as %+v", st.Name, c.From.Ref, c.Git)
			}
			if !remote && (c.Checksum != "" || c.KeepGitDir) || (c.From.Kind == SourceGit || c.From.Kind == SourceContent) && c.Unpack {
				t.Errorf("%s: copy from %s with checksum %q, keep-git-dir %v, unpack %v", st.Name, c.From.Kind, c.Checksum, c.KeepGitDir, c.Unpack)
			}
		}
		if st.Network != "" && !slices.Contains(Networks, st.Network) || st.Security != "" && !slices.Contains(Securities, st.Security) {
			t.Errorf("%s: network %q, security %q", st.Name, st.Network, st.Security)
		}
		for _, a := range st.Args {
			if !ValidArgName(a.Name) {
				t.Errorf("%s: arg %q", st.Name, a.Name)
			}
		}
		for _, c := range st.Copy {
			if c.Chmod != "" && !validChmod(c.Chmod) || c.Link && chownByName(c.Chown) || slices.Contains(c.Exclude, "") {
				t.Errorf("%s: copy chmod %q, chown %q with link %v, exclude %q", st.Name, c.Chmod, c.Chown, c.Link, c.Exclude)
			}
		}
		if st.Workdir != "" && !strings.HasPrefix(st.Workdir, "/") {
			t.Errorf("%s: workdir %q", st.Name, st.Workdir)
		}
		for _, m := range st.Mounts {
			if !slices.Contains(MountTypes, m.Type) {
				t.Errorf("%s: mount type %q", st.Name, m.Type)
			}
			if m.Type == MountCache && caches[m.Volume] == nil {
				t.Errorf("%s: cache %q", st.Name, m.Volume)
			}
			// Only an ssh mount may leave its path to BuildKit, and a
			// secret exposed as env alone has none.
			optional := m.Type == MountSSH || m.Type == MountSecret && m.Env != ""
			if (m.Path != "" || !optional) && (!strings.HasPrefix(m.Path, "/") || path.Clean(m.Path) == "/") {
				t.Errorf("%s: mount path %q", st.Name, m.Path)
			}
			if m.Type == MountBind {
				source(st.Name+".mounts.from", m.From, st.Name)
			}
			if m.Seed != nil {
				source(st.Name+".mounts.source", m.Seed.From, st.Name)
			}
		}
	}
	// The steps form a DAG: llbgen lowers them recursively.
	state := map[string]int{}
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case 1:
			return false
		case 2:
			return true
		}
		state[name] = 1
		for _, dep := range Deps(steps[name]) {
			if steps[dep] != nil && !visit(dep) {
				return false
			}
		}
		state[name] = 2
		return true
	}
	for _, st := range s.Steps {
		if !visit(st.Name) {
			t.Fatalf("steps form a cycle through %q", st.Name)
		}
	}
}

// TestExamples loads the repository's examples, when there are any: they
// are what users copy.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	for _, file := range append(files, more...) {
		t.Run(file, func(t *testing.T) {
			checkModel(t, loadFile(t, file))
		})
	}
}
