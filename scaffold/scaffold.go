// Package scaffold writes a starting stowage.yaml for a project from the
// files in its directory: the tool it uses (go.mod, a lock file,
// requirements, Cargo.toml, a Dockerfile that runs apt), the cache volumes
// that tool needs, keyed as the examples key them, and the fastest pattern
// the benchmarks found for it.
package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// DefaultSyntax is the published frontend image's major channel, as
// docker/dockerfile:1 is the Dockerfile frontend's (docs/release.md).
const DefaultSyntax = "ghcr.io/stowage-build/stowage:1"

// Kind is the tool a project is built with; it picks the template.
type Kind string

const (
	Go     Kind = "go"
	Node   Kind = "node"
	Python Kind = "python"
	Rust   Kind = "rust"
	Apt    Kind = "apt"
)

// Kinds are the kinds in the order detection tries them.
var Kinds = []Kind{Go, Node, Python, Rust, Apt}

// Project is what detection found; the templates read its fields.
type Project struct {
	Kind    Kind
	Name    string // the project: name, from the directory
	Syntax  string // the # syntax= image
	Found   string // the file that decided the kind, for the header
	Version string // the tool's version: Go's from go.mod, Node's, Python's
	// Go: the main package's path ("." or ./cmd/NAME) and the binary's
	// name; empty Main for a library (build and test only).
	Main, Binary string
	// Node: the package manager (npm, pnpm, yarn) and its lock file;
	// Corepack when package.json pins the manager (packageManager:), which
	// corepack then fetches, else npm installs pnpm or yarn itself.
	Manager, Lock string
	Corepack      bool
	// Berry is Yarn 2 or later (its lock file has __metadata).
	Berry bool
	// Python: requirements.txt, pyproject.toml or uv.lock's installer.
	Requirements string
	// Apt: the base image and the packages the Dockerfile installs.
	Base     string
	Packages []string
	// Others are the other kinds the directory also looks like.
	Others []Kind
}

//go:embed templates/*.yaml.tmpl
var templates embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{"join": strings.Join}).ParseFS(templates, "templates/*.yaml.tmpl"))

// Render writes the project's stowage.yaml.
func Render(p *Project) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, string(p.Kind)+".yaml.tmpl", p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Detect looks at the files of dir (an fs.FS of the project's directory)
// and says what it is built with; kind forces one ("" detects). name is
// the directory's name, made a project name.
func Detect(dir fs.FS, name string, kind Kind) (*Project, error) {
	if kind != "" && detectors[kind] == nil {
		return nil, fmt.Errorf("unknown kind %q: write %s", kind, strings.Join(KindNames(), ", "))
	}
	// Each detector once: the kinds found, and what each found.
	var found []*Project
	for _, k := range Kinds {
		p := &Project{Kind: k, Name: projectName(name), Syntax: DefaultSyntax}
		if detectors[k](dir, p) {
			found = append(found, p)
		}
	}
	if len(found) == 0 && kind == "" {
		return nil, fmt.Errorf("found nothing to build: no go.mod, package-lock.json, pnpm-lock.yaml, yarn.lock, requirements.txt, pyproject.toml, uv.lock, Cargo.toml or Dockerfile that runs apt-get; pass --kind %s", strings.Join(KindNames(), ", "))
	}
	if kind == "" {
		kind = found[0].Kind
	}
	i := slices.IndexFunc(found, func(p *Project) bool { return p.Kind == kind })
	if i < 0 {
		return nil, fmt.Errorf("--kind %s: %s", kind, missing[kind])
	}
	p := found[i]
	for _, o := range found {
		if o.Kind != kind {
			p.Others = append(p.Others, o.Kind)
		}
	}
	return p, nil
}

// KindNames are Kinds as strings, for flags and messages.
func KindNames() []string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return s
}

// missing says what a forced kind needs and did not find.
var missing = map[Kind]string{
	Go:     "no go.mod here",
	Node:   "no package-lock.json, pnpm-lock.yaml or yarn.lock here (a lock file keys the volume)",
	Python: "no requirements.txt, pyproject.toml or uv.lock here",
	Rust:   "no Cargo.toml with a [package] here",
	Apt:    "no Dockerfile here whose first stage is Debian or Ubuntu and runs apt-get install",
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// projectName makes a directory's name a project name: lower case, words
// joined by dashes.
func projectName(dir string) string { return Slug(dir, "app") }

// Slug is s in lower case, its words joined by dashes; fallback when it has
// none. Project names and volume names are made this way.
func Slug(s, fallback string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if n == "" {
		return fallback
	}
	return n
}
