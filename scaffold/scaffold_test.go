package scaffold

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stowage-build/stowage/internal/golden"
	"github.com/stowage-build/stowage/lint"
	"github.com/stowage-build/stowage/spec"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// projects are one directory of each kind (and variants), as a user's
// repository would hold them.
var projects = []struct {
	name  string
	files fstest.MapFS
	kind  Kind
	want  Project // the fields detection decides
}{
	{"go-main", fstest.MapFS{"go.mod": file("module example.com/hello\n\ngo 1.25.3\n"), "main.go": file("package main\n"), "go.sum": file("")},
		Go, Project{Version: "1.25", Main: ".", Binary: "hello"}},
	{"go-cmd", fstest.MapFS{"go.mod": file("module example.com/tool\ngo 1.26\n"), "lib.go": file("package tool\n"), "cmd/tooly/main.go": file("// x\npackage main\n")},
		Go, Project{Version: "1.26", Main: "./cmd/tooly", Binary: "tooly"}},
	{"go-major-version", fstest.MapFS{"go.mod": file("module example.com/tool/v2\ngo 1.26\n"), "main.go": file("package main\n")},
		Go, Project{Version: "1.26", Main: ".", Binary: "tool"}},
	{"go-library", fstest.MapFS{"go.mod": file("module example.com/lib\ngo 1.26\n"), "lib.go": file("package lib\n")},
		Go, Project{Version: "1.26"}},
	{"npm", fstest.MapFS{"package.json": file(`{"main": "server.js"}`), "package-lock.json": file("{}"), ".nvmrc": file("v22.1.0\n")},
		Node, Project{Version: "22", Manager: "npm", Lock: "package-lock.json", Main: "server.js"}},
	{"npm-lts-alias", fstest.MapFS{"package.json": file(`{}`), "package-lock.json": file("{}"), ".nvmrc": file("lts/iron\n")},
		Node, Project{Version: "iron", Manager: "npm", Lock: "package-lock.json", Main: "index.js"}},
	{"yarn-berry", fstest.MapFS{"package.json": file(`{"packageManager": "yarn@4.5.0"}`), "yarn.lock": file("__metadata:\n  version: 8\n")},
		Node, Project{Version: "20", Manager: "yarn", Lock: "yarn.lock", Main: "index.js", Corepack: true, Berry: true}},
	{"pnpm", fstest.MapFS{"package.json": file(`{}`), "pnpm-lock.yaml": file("")},
		Node, Project{Version: "20", Manager: "pnpm", Lock: "pnpm-lock.yaml", Main: "index.js"}},
	{"pnpm-corepack", fstest.MapFS{"package.json": file(`{"packageManager": "pnpm@9.15.0"}`), "pnpm-lock.yaml": file("")},
		Node, Project{Version: "20", Manager: "pnpm", Lock: "pnpm-lock.yaml", Main: "index.js", Corepack: true}},
	{"yarn", fstest.MapFS{"package.json": file(`{}`), "yarn.lock": file("")},
		Node, Project{Version: "20", Manager: "yarn", Lock: "yarn.lock", Main: "index.js"}},
	{"pip", fstest.MapFS{"requirements.txt": file("flask\n"), "app.py": file("")},
		Python, Project{Version: "3.11", Requirements: "requirements.txt", Main: "app.py"}},
	{"pyproject", fstest.MapFS{"pyproject.toml": file("[project]\nname='x'\n"), ".python-version": file("3.12.4\n")},
		Python, Project{Version: "3.12", Requirements: "pyproject.toml"}},
	{"uv", fstest.MapFS{"pyproject.toml": file(""), "uv.lock": file(""), "main.py": file("")},
		Python, Project{Version: "3.11", Requirements: "uv", Main: "main.py"}},
	{"cargo", fstest.MapFS{"Cargo.toml": file("[package]\nname = \"hello-rs\"\nversion = \"0.1.0\"\n\n[dependencies]\nname = \"not this\"\n"), "Cargo.lock": file(""), "src/main.rs": file("")},
		Rust, Project{Version: "1", Binary: "hello-rs", Lock: "Cargo.lock"}},
	{"cargo-bin", fstest.MapFS{"Cargo.toml": file("[package]\nname = \"tools\"\n\n[[bin]]\nname = \"hello\"\npath = \"src/hello.rs\"\n")},
		Rust, Project{Version: "1", Binary: "hello"}},
	{"cargo-library", fstest.MapFS{"Cargo.toml": file("[package]\nname = \"mylib\"\n"), "src/lib.rs": file("")},
		Rust, Project{Version: "1"}},
	{"apt-arg-base", fstest.MapFS{"Dockerfile": file("ARG UBUNTU=ubuntu:24.04\nFROM ${UBUNTU}\nRUN apt-get -o Acquire::Retries=3 install -y -t noble-backports htop\n")},
		Apt, Project{Base: "ubuntu:24.04", Packages: []string{"htop"}}},
	{"apt", fstest.MapFS{"Dockerfile": file("FROM debian:bookworm AS base\nRUN apt-get update && \\\n  apt-get install -y --no-install-recommends curl jq=1.6* ca-certificates && rm -rf /var/lib/apt/lists/*\nRUN apt install -y git; echo done\nFROM alpine\nRUN apk add x\n")},
		Apt, Project{Base: "debian:bookworm", Packages: []string{"ca-certificates", "curl", "git"}}},
}

// TestTemplates: each kind is detected from its files, and what init
// writes for it loads, lints clean and matches its golden file.
func TestTemplates(t *testing.T) {
	for _, tc := range projects {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Detect(tc.files, "My App", "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tc.kind || p.Name != "my-app" || p.Version != tc.want.Version || p.Main != tc.want.Main || p.Binary != tc.want.Binary ||
				p.Manager != tc.want.Manager || p.Corepack != tc.want.Corepack || p.Berry != tc.want.Berry || p.Lock != tc.want.Lock || p.Requirements != tc.want.Requirements || p.Base != tc.want.Base ||
				!slices.Equal(p.Packages, tc.want.Packages) {
				t.Errorf("detected %+v, want kind %s and %+v", p, tc.kind, tc.want)
			}
			out, err := Render(p)
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.Load(out, spec.Options{File: "stowage.yaml"})
			if err != nil {
				t.Fatalf("the spec init writes does not load: %v\n%s", err, out)
			}
			for _, w := range lint.Check(s) {
				t.Errorf("lint: %s", w.String(s.File))
			}
			if !strings.HasPrefix(string(out), "# syntax="+DefaultSyntax+"\n") {
				t.Errorf("the spec does not start with the published image's syntax line:\n%s", out)
			}
			golden.Check(t, filepath.Join("testdata", tc.name+".yaml"), out)
		})
	}
}

// TestEveryKind: a kind added to Kinds needs a detector, a template and
// the message for a forced kind that is not there.
func TestEveryKind(t *testing.T) {
	for _, k := range Kinds {
		if detectors[k] == nil || missing[k] == "" || tmpl.Lookup(string(k)+".yaml.tmpl") == nil {
			t.Errorf("kind %s lacks a detector, a template or its missing message", k)
		}
	}
	if len(detectors) != len(Kinds) || len(missing) != len(Kinds) {
		t.Errorf("detectors or messages for kinds not in Kinds")
	}
}

func TestDetectErrors(t *testing.T) {
	both := fstest.MapFS{"go.mod": file("module x\n"), "package.json": file("{}"), "package-lock.json": file("{}")}
	p, err := Detect(both, "x", "")
	if err != nil || p.Kind != Go || !slices.Equal(p.Others, []Kind{Node}) {
		t.Errorf("go and node: %+v, %v; want go, with node among the others", p, err)
	}
	if p, err := Detect(both, "x", Node); err != nil || p.Kind != Node {
		t.Errorf("--kind node: %+v, %v", p, err)
	}
	for _, tc := range []struct {
		files fstest.MapFS
		kind  Kind
		want  string
	}{
		{fstest.MapFS{"README": file("")}, "", "found nothing to build"},
		{both, Rust, "--kind rust: no Cargo.toml"},
		{both, "java", `unknown kind "java"`},
		{fstest.MapFS{"Dockerfile": file("FROM alpine\nRUN apk add curl\n")}, "", "found nothing to build"},
		{fstest.MapFS{"package.json": file("{}")}, "", "found nothing to build"},
	} {
		if _, err := Detect(tc.files, "x", tc.kind); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Detect(%v, %q) = %v, want %q", tc.files, tc.kind, err, tc.want)
		}
	}
}
