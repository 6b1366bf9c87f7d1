package scaffold

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// detectors fill in a project of their kind from its files, and say
// whether the directory is one.
var detectors = map[Kind]func(fs.FS, *Project) bool{
	Go:     detectGo,
	Node:   detectNode,
	Python: detectPython,
	Rust:   detectRust,
	Apt:    detectApt,
}

func detectGo(dir fs.FS, p *Project) bool {
	dt, err := fs.ReadFile(dir, "go.mod")
	if err != nil {
		return false
	}
	p.Found, p.Version = "go.mod", "1.26"
	// The image tag is the language version, as golang:1.26 is.
	if m := goLine.FindSubmatch(dt); m != nil {
		p.Version = string(m[1])
	}
	if isMain(dir, ".") {
		p.Main = "."
		if m := moduleLine.FindSubmatch(dt); m != nil {
			p.Binary = binaryName(strings.Trim(string(m[1]), `"`))
		}
	} else if cmds, err := fs.ReadDir(dir, "cmd"); err == nil {
		for _, c := range cmds {
			if c.IsDir() && isMain(dir, "cmd/"+c.Name()) {
				p.Main, p.Binary = "./cmd/"+c.Name(), c.Name()
				break
			}
		}
	}
	if p.Main != "" && (p.Binary == "" || p.Binary == ".") {
		p.Binary = "app"
	}
	return true
}

var (
	goLine     = regexp.MustCompile(`(?m)^go\s+(\d+\.\d+)`)
	moduleLine = regexp.MustCompile(`(?m)^module\s+(\S+)`)
)

// binaryName is what go build names a module's binary: the last element
// of its path, skipping a major-version suffix (example.com/tool/v2 is
// tool).
func binaryName(module string) string {
	base := path.Base(module)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		if parent := path.Base(path.Dir(module)); parent != "." && parent != "/" {
			return parent
		}
	}
	return base
}

var packageMain = regexp.MustCompile(`(?m)^package main\b`)

// isMain says whether dir holds Go files of package main.
func isMain(fsys fs.FS, dir string) bool {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		if dt, err := fs.ReadFile(fsys, path.Join(dir, e.Name())); err == nil && packageMain.Match(dt) {
			return true
		}
	}
	return false
}

func detectNode(dir fs.FS, p *Project) bool {
	if !exists(dir, "package.json") {
		return false
	}
	for _, m := range []struct{ lock, manager string }{
		{"package-lock.json", "npm"}, {"pnpm-lock.yaml", "pnpm"}, {"yarn.lock", "yarn"},
	} {
		if exists(dir, m.lock) {
			p.Found, p.Lock, p.Manager = m.lock, m.lock, m.manager
			break
		}
	}
	if p.Lock == "" {
		return false
	}
	p.Version, p.Main = "20", "index.js"
	if dt, err := fs.ReadFile(dir, ".nvmrc"); err == nil {
		p.Version = nodeTag(strings.TrimSpace(string(dt)), p.Version)
	}
	if p.Manager == "yarn" {
		// Yarn 2+ (berry) writes __metadata into its lock file.
		if dt, err := fs.ReadFile(dir, "yarn.lock"); err == nil && bytes.Contains(dt, []byte("__metadata:")) {
			p.Berry = true
		}
	}
	var pkg struct{ Main, PackageManager string }
	if dt, err := fs.ReadFile(dir, "package.json"); err == nil && json.Unmarshal(dt, &pkg) == nil {
		if pkg.Main != "" {
			p.Main = pkg.Main
		}
		p.Corepack = pkg.PackageManager != ""
	}
	return true
}

// nodeTag is the node image tag for an .nvmrc line: v20.11.1 is 20,
// lts/iron is iron, lts/* and node are lts and latest; anything else keeps
// def.
func nodeTag(nvmrc, def string) string {
	switch v := strings.TrimPrefix(nvmrc, "v"); {
	case v == "lts/*":
		return "lts"
	case v == "node" || v == "stable":
		return "latest"
	case strings.HasPrefix(v, "lts/"):
		return strings.TrimPrefix(v, "lts/")
	case v != "" && strings.Trim(strings.SplitN(v, ".", 2)[0], "0123456789") == "":
		return strings.SplitN(v, ".", 2)[0]
	}
	return def
}

func detectPython(dir fs.FS, p *Project) bool {
	switch {
	case exists(dir, "uv.lock"):
		p.Found, p.Requirements = "uv.lock", "uv"
	case exists(dir, "requirements.txt"):
		p.Found, p.Requirements = "requirements.txt", "requirements.txt"
	case exists(dir, "pyproject.toml"):
		p.Found, p.Requirements = "pyproject.toml", "pyproject.toml"
	default:
		return false
	}
	p.Version = "3.11"
	if dt, err := fs.ReadFile(dir, ".python-version"); err == nil {
		if v := strings.TrimSpace(string(dt)); v != "" {
			parts := strings.SplitN(v, ".", 3)
			p.Version = strings.Join(parts[:min(2, len(parts))], ".")
		}
	}
	for _, m := range []string{"app.py", "main.py"} {
		if exists(dir, m) {
			p.Main = m
			break
		}
	}
	return true
}

var binName = regexp.MustCompile(`(?m)^\[\[bin\]\]\s*\n(?:[^\[\n][^\n]*\n)*?\s*name\s*=\s*"([^"]+)"`)

var cargoName = regexp.MustCompile(`(?m)^\s*name\s*=\s*"([^"]+)"`)

func detectRust(dir fs.FS, p *Project) bool {
	dt, err := fs.ReadFile(dir, "Cargo.toml")
	if err != nil {
		return false
	}
	// The [package] table's name is the binary's.
	_, pkg, ok := bytes.Cut(dt, []byte("[package]"))
	if !ok {
		return false
	}
	if next := bytes.Index(pkg, []byte("\n[")); next >= 0 {
		pkg = pkg[:next]
	}
	m := cargoName.FindSubmatch(pkg)
	if m == nil {
		return false
	}
	p.Found, p.Binary, p.Version = "Cargo.toml", string(m[1]), "1"
	// A [[bin]] names the binary; without one and without src/main.rs the
	// crate is a library: built and tested, no image.
	if b := binName.FindSubmatch(dt); b != nil {
		p.Binary = string(b[1])
	} else if !exists(dir, "src/main.rs") {
		p.Binary = ""
	}
	p.Lock = "Cargo.lock"
	if !exists(dir, "Cargo.lock") {
		p.Lock = ""
	}
	return true
}

// detectApt reads a Dockerfile with BuildKit's own parser: its first stage
// on Debian or Ubuntu, and the packages its RUN lines apt-get install.
func detectApt(dir fs.FS, p *Project) bool {
	dt, err := fs.ReadFile(dir, "Dockerfile")
	if err != nil {
		return false
	}
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return false
	}
	args := map[string]string{}
	for _, n := range res.AST.Children {
		switch strings.ToLower(n.Value) {
		case "arg":
			// ARGs before the first FROM may name its image.
			if p.Base == "" && n.Next != nil {
				k, v, _ := strings.Cut(n.Next.Value, "=")
				args[k] = strings.Trim(v, `"'`)
			}
		case "from":
			if p.Base != "" || n.Next == nil {
				continue
			}
			img := os.Expand(n.Next.Value, func(k string) string { return args[k] })
			repo := strings.SplitN(path.Base(strings.SplitN(img, "@", 2)[0]), ":", 2)[0]
			if repo != "debian" && repo != "ubuntu" {
				return false
			}
			p.Base = img
		case "run":
			if p.Base == "" {
				continue
			}
			var words []string
			for a := n.Next; a != nil; a = a.Next {
				words = append(words, strings.Fields(a.Value)...)
			}
			p.Packages = append(p.Packages, aptPackages(words)...)
		}
	}
	if p.Base == "" || len(p.Packages) == 0 {
		return false
	}
	slices.Sort(p.Packages)
	p.Packages = slices.Compact(p.Packages)
	p.Found = "Dockerfile"
	return true
}

// aptPackages are the package names after each `apt-get install` (or `apt
// install`) in a shell command's words, up to the command's end.
func aptPackages(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		if (words[i] != "apt-get" && words[i] != "apt") || i+1 >= len(words) {
			continue
		}
		j := i + 1
		for j < len(words) && strings.HasPrefix(words[j], "-") {
			if words[j] == "-t" || words[j] == "-o" {
				j++ // its value
			}
			j++
		}
		if j >= len(words) || words[j] != "install" {
			continue
		}
		for j++; j < len(words); j++ {
			w := words[j]
			if w == "&&" || w == ";" || w == "||" || w == "|" || strings.HasPrefix(w, "\\") {
				break
			}
			// Options that take a value: the value is no package.
			if w == "-t" || w == "-o" || w == "--target-release" || w == "--option" {
				j++
				continue
			}
			end := strings.TrimRight(w, ";")
			if !strings.HasPrefix(end, "-") && end != "" && validPackage.MatchString(end) {
				out = append(out, end)
			}
			if end != w {
				break
			}
		}
		i = j
	}
	return out
}

var validPackage = regexp.MustCompile(`^[a-z0-9][a-z0-9+.:=~-]*$`)

func exists(dir fs.FS, name string) bool {
	_, err := fs.Stat(dir, name)
	return err == nil
}
