package syntax_test

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/stowage-build/stowage/internal/golden"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec"
	"github.com/stowage-build/stowage/spec/syntax"
)

// file is the published schema, at the root of the repository.
var file = filepath.Join("..", "..", "schema", "stowage.schema.json")

// TestFileUpToDate keeps the published file equal to what Generate makes
// of the Go types (-update, or `go generate ./spec/syntax`, rewrites it).
func TestFileUpToDate(t *testing.T) {
	want, err := syntax.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if golden.Update() {
		if err := os.WriteFile(file, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run `go generate ./spec/syntax` (or `go test ./spec/syntax -update`)", file)
	}
}

// compile compiles the published file as draft-07, which also checks it
// against the draft-07 meta-schema. Nothing is fetched: the meta-schema is
// built into the validator.
func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource(syntax.ID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(syntax.ID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// instance reads YAML as a YAML 1.2 editor sees it: a JSON value.
func instance(data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, more yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("not one YAML document")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	budget := 100_000
	return toJSON(doc.Content[0], 0, &budget)
}

// toJSON converts a node, expanding aliases and merge keys; an alias bomb
// runs out of budget.
func toJSON(n *yaml.Node, depth int, budget *int) (any, error) {
	if *budget--; depth > 100 || *budget < 0 {
		return nil, errors.New("too big once aliases expand")
	}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		var merged []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, errors.New("a key that is not a string")
			}
			if _, dup := out[k.Value]; dup && k.Tag != "!!merge" {
				return nil, fmt.Errorf("duplicate key %q", k.Value)
			}
			if k.Tag == "!!merge" {
				// Explicit keys win over merged ones, as in the decoder.
				for v.Kind == yaml.AliasNode {
					v = v.Alias
				}
				if v.Kind == yaml.SequenceNode {
					merged = append(merged, v.Content...)
				} else {
					merged = append(merged, v)
				}
				continue
			}
			val, err := toJSON(v, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		for _, m := range merged {
			val, err := toJSON(m, depth+1, budget)
			if err != nil {
				return nil, err
			}
			mm, ok := val.(map[string]any)
			if !ok {
				return nil, errors.New("a merge of something other than a mapping")
			}
			for k, v := range mm {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			val, err := toJSON(item, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		if b, err := strconv.ParseBool(n.Value); err == nil {
			return b, nil
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i, nil
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, nil
		}
	}
	return n.Value, nil
}

// validate reports whether a spec's YAML satisfies the schema.
func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	v, err := instance(data)
	if err != nil {
		t.Fatalf("reading the YAML: %v", err)
	}
	return s.Validate(v)
}

// validSpecs are the repository's valid specs: what users copy, and what the
// other packages' tests load.
func validSpecs(t *testing.T) []string {
	var files []string
	for _, pattern := range []string{
		"../testdata/valid/*.yaml",
		"../../llbgen/testdata/lower/*.yaml",
		"../../examples/*/stowage.yaml",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil || len(m) == 0 {
			t.Fatalf("no files match %s", pattern)
		}
		files = append(files, m...)
	}
	return files
}

// TestValidSpecs validates every valid spec of the repository.
func TestValidSpecs(t *testing.T) {
	s := compile(t)
	for _, f := range validSpecs(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := spec.Load(data, spec.Options{}); err != nil {
			t.Fatalf("%s does not load: %v", f, err)
		}
		if err := validate(t, s, data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// beyondSchema are the cases of spec/testdata/invalid whose YAML the schema
// accepts: their errors need what a JSON Schema cannot see (other parts of
// the spec, expanded ${NAME}s, image references, the size of the input).
var beyondSchema = map[string]string{
	"arg-cycle":                   "two args refer to each other",
	"arg-forward-reference":       "${NAME} refers to a later arg",
	"arg-step-only":               "${NAME} of a step's arg where only top-level args are visible",
	"bad-name":                    "${…} holds something other than a name",
	"bad-platform":                "platform: is not a platform",
	"cache-cycle-2":               "from: between volumes forms a cycle",
	"cache-cycle-3":               "from: between volumes forms a cycle",
	"cache-cycle-self":            "from: between volumes forms a cycle",
	"cache-from-unknown":          "from: names a volume that does not exist",
	"child-scope":                 "a child volume's scope differs from its parent's",
	"default-missing":             "default: names a step that does not exist",
	"empty-key-token":             "a key token is empty once ${NAME} expands",
	"id-range":                    "a numeric uid or gid over 4294967294 inside a string",
	"stopsignal-unknown":          "a signal name Linux does not have",
	"key-too-long":                "the key is too long with its parents' tokens",
	"mount-duplicate-path":        "two mounts of a step at one path",
	"mount-undeclared-cache":      "cache: names a volume that is not declared",
	"mount-undeclared-cache-none": "cache: names a volume that is not declared",
	"restore-duplicate":           "two restore keys are the same key, written differently",
	"restore-own-key":             "a restore key is the volume's own key",
	"restore-private":             "restore: on a private volume",
	"restore-session":             "restore: on a session volume",
	"seed-missing-step":           "source: names a step that does not exist",
	"step-copy-from-itself":       "a step reads from itself",
	"step-cycle":                  "steps form a cycle",
	"step-from-itself":            "a step starts from itself",
	"step-from-neither":           "from: is neither a step nor an image reference",
	"undefined-in-block":          "${NAME} is not defined",
	"undefined-name":              "${NAME} is not defined",
	"undefined-name-quoted":       "${NAME} is not defined",
	"unterminated":                "an unterminated ${",
}

// TestInvalidSpecs validates every case of spec/testdata/invalid: the
// schema must reject each one whose YAML parses, except those listed in
// beyondSchema.
func TestInvalidSpecs(t *testing.T) {
	s := compile(t)
	files, err := filepath.Glob("../testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no cases in spec/testdata/invalid")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := instance(data)
		if err != nil {
			// Broken YAML, which an editor reports as such.
			if _, listed := beyondSchema[name]; listed {
				t.Errorf("beyondSchema lists %q, whose YAML does not read: %v", name, err)
			}
			continue
		}
		err = s.Validate(v)
		why, beyond := beyondSchema[name]
		switch {
		case err == nil && !beyond:
			t.Errorf("the schema accepts testdata/invalid/%s.yaml: make it reject it, or, if its error is beyond what a JSON Schema can say, list it in beyondSchema with the reason", name)
		case err != nil && beyond:
			t.Errorf("the schema rejects testdata/invalid/%s.yaml, listed in beyondSchema (%s): remove it from there", name, why)
		}
	}
	for name := range beyondSchema {
		if _, err := os.Stat("../testdata/invalid/" + name + ".yaml"); err != nil {
			t.Errorf("beyondSchema lists %q, which is not a case of testdata/invalid", name)
		}
	}
}

// modeline is the comment that points yaml-language-server at the schema.
const modeline = "# yaml-language-server: $schema=" + syntax.ID

// TestExampleHeaders checks that the examples' editor comment and BuildKit's
// `# syntax=` line coexist: BuildKit reads directives from the leading
// comment lines only until one is not a directive, so the syntax line comes
// first and the editor comment after it.
func TestExampleHeaders(t *testing.T) {
	files, err := filepath.Glob("../../examples/*/stowage.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no examples")
	}
	with := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		want, ok := strings.CutPrefix(lines[0], "# syntax=")
		if !ok {
			t.Errorf("%s: the first line is not a # syntax= line", f)
			continue
		}
		if got, _, _, ok := parser.DetectSyntax(data); !ok || got != want {
			t.Errorf("%s: BuildKit reads the syntax as %q (found: %v), want %q", f, got, ok, want)
		}
		for i, line := range lines {
			if strings.HasPrefix(line, "# yaml-language-server:") {
				with++
				if line != modeline || i != 1 {
					t.Errorf("%s:%d: want %q on line 2", f, i+1, modeline)
				}
			}
		}
		if _, err := spec.Load(data, spec.Options{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if with == 0 {
		t.Error("no example names the schema")
	}
	// The other way round, BuildKit would miss the syntax line.
	if got, _, _, ok := parser.DetectSyntax([]byte(modeline + "\n# syntax=example.com/stowage\n")); ok {
		t.Errorf("BuildKit now finds the syntax %q after the editor comment: the README's word on their order can be relaxed", got)
	}
}

// TestAgreesWithDecoder checks small specs on which the schema and the
// decoder must agree, shape by shape.
func TestAgreesWithDecoder(t *testing.T) {
	s := compile(t)
	// step wraps a step's fields in a spec; the volume c exists.
	step := func(fields string) string {
		return "project: p\nargs: {MODE: \"0700\", DIR: /home}\ncaches: {c: }\nsteps:\n  w: {from: scratch}\n  s: {from: busybox, " + fields + "}\n"
	}
	cache := func(fields string) string {
		return "project: p\nargs: {MODE: \"0700\"}\ncaches: {c: {" + fields + "}}\nsteps: {s: {from: scratch}}\n"
	}
	for _, c := range []struct {
		name, yaml string
		ok         bool
	}{
		{"minimal", "project: p\nsteps: {s: {from: scratch}}\n", true},
		{"scalars read as text", "project: 12\nversion: 1\nsteps: {s: {from: scratch, env: {A: 0, B: true, C: 1.5}, user: 1000, expose: 8080, labels: {v: 1.10}}}\n", true},
		{"version as a string", "version: \"1\"\nproject: p\nsteps: {s: {from: scratch}}\n", true},
		{"nulls", "project: p\nargs:\ncaches:\n  c:\nsteps:\n  s:\n    from: scratch\n    env:\n    labels:\n    copy:\n    mounts:\n", true},
		{"x- keys", "project: p\nx-a: 1\ncaches: {c: {x-b: 1}}\nsteps: {s: {from: scratch, x-c: 1, copy: [{src: a, dest: b, x-d: 1}], mounts: [{cache: c, path: /c, x-e: 1, source: {context: ., x-f: 1}}]}}\n", true},
		{"merge keys", "project: p\nx-base: &base {from: busybox, workdir: /src}\nsteps: {s: {<<: *base, run: ls}}\n", true},
		{"args", "project: p\nargs: {A: , B: b, C: {default: c, description: the c}, D: {description: no default}}\nsteps: {s: {from: scratch}}\n", true},
		{"key forms", cache("key: [a, {hash: go.sum}, {hash: [a, b]}, {digest: debian}]"), true},
		{"one key", cache("key: k, scope: global, sharing: locked, generation: 2, owner: \"1:1\", mode: \"0755\""), true},
		{"generation as a string", cache("generation: \"3\""), true},
		{"mode as a number", cache("mode: 0755"), true},
		{"mode 0o", cache("mode: 0o755"), true},
		{"mode interpolated", cache("mode: \"${MODE}\""), true},
		{"mounts", step("mounts: [{cache: c, path: /c, readonly: true, source: {step: w, path: /x}}, {type: cache, cache: c, path: /d}, {type: tmpfs, path: /t, size: 64m}, {type: tmpfs, path: /u, size: 1024}, {type: bind, path: /b, from: w, src: /, readonly: false}, {type: secret, path: /run/s/tok}, {type: ssh}]"), true},
		{"seed from a named context", step("mounts: [{cache: c, path: /c, source: {context: ctx, path: /x}}]"), true},
		{"workdir interpolated", step("workdir: \"${DIR}/src\""), true},
		{"empty run", step("run: \"\""), true},
		{"step options", step("args: [DIR, TARGETARCH], network: none, security: insecure"), true},
		{"step arg defaults", step("args: {V: dev, W: {default: w}, DIR: , TARGETOS: }"), true},
		{"platform arg described in a step", step("args: {TARGETOS: {description: the OS}}"), true},
		{"secret id from its path", step("mounts: [{type: secret, id: \"\", path: /run/s/tok}]"), true},
		{"secret with an empty id", step("mounts: [{type: secret, id: \"\"}]"), false},
		{"copy options", step("copy: [{src: a, dest: /b, chown: \"app:app\", chmod: \"u+x,go-w\", exclude: [\"*.md\"], parents: true}, {src: a, dest: /c, chown: 1000, chmod: 0644, link: true, exclude: \"*.txt\"}]"), true},
		{"secret as env", step("mounts: [{type: secret, id: tok, env: TOKEN}]"), true},
		{"secret file owner", step("mounts: [{type: secret, id: tok, path: /t, uid: 1000, gid: \"1000\", mode: \"0440\"}, {type: ssh, uid: 1, mode: 0600}]"), true},

		{"no project", "steps: {s: {from: scratch}}\n", false},
		{"blank project", "project: \" \"\nsteps: {s: {from: scratch}}\n", false},
		{"no steps", "project: p\n", false},
		{"a step without from", "project: p\nsteps: {s: {run: ls}}\n", false},
		{"a null step", "project: p\nsteps: {s: }\n", false},
		{"unknown top-level field", "project: p\nsteps: {s: {from: scratch}}\nstep: {}\n", false},
		{"version 2", "version: 2\nproject: p\nsteps: {s: {from: scratch}}\n", false},
		{"empty default", "project: p\ndefault: \"\"\nsteps: {s: {from: scratch}}\n", false},
		{"arg name", "project: p\nargs: {1A: x}\nsteps: {s: {from: scratch}}\n", false},
		{"platform arg", "project: p\nargs: {TARGETARCH: x}\nsteps: {s: {from: scratch}}\n", false},
		{"arg field", "project: p\nargs: {A: {value: x}}\nsteps: {s: {from: scratch}}\n", false},
		{"scope", cache("scope: world"), false},
		{"sharing", cache("sharing: exclusive"), false},
		{"negative generation", cache("generation: -1"), false},
		{"mode 0800", cache("mode: \"0800\""), false},
		// A bare number is not checked for the digits 8 and 9: the schema sees
		// a number, not its digits.
		{"mode 8", cache("mode: \"8\""), false},
		{"owner", cache("owner: \"1000\""), false},
		{"empty key", cache("key: []"), false},
		{"empty key token", cache("key: [a, \"\"]"), false},
		{"null key", cache("key: "), false},
		{"hash without globs", cache("key: [{hash: []}]"), false},
		{"hash and digest", cache("key: [{hash: a, digest: b}]"), false},
		{"too many tokens", cache("key: [" + strings.Repeat("t, ", syntax.MaxKeyTokens) + "t]"), false},
		{"unknown step field", step("image: x"), false},
		{"from empty", "project: p\nsteps: {s: {from: \"\"}}\n", false},
		{"from an unnamed context", "project: p\nsteps: {s: {from: \"context:\"}}\n", false},
		{"a step called scratch", "project: p\nsteps: {scratch: {from: busybox}}\n", false},
		{"a step called context:x", "project: p\nsteps: {\"context:x\": {from: busybox}}\n", false},
		{"relative workdir", step("workdir: src"), false},
		{"run null", step("run: "), false},
		{"blank command", step("run: [ls, \" \"]"), false},
		{"empty shell", step("shell: []"), false},
		{"shell as a string", step("shell: bash"), false},
		{"entrypoint as a string", step("entrypoint: /app"), false},
		{"env as a list", step("env: [A=1]"), false},
		{"copy without dest", step("copy: [{src: a}]"), false},
		{"readonly yes", step("mounts: [{cache: c, path: /c, readonly: yes}]"), false},
		{"mount without type", step("mounts: [{path: /c}]"), false},
		{"mount type", step("mounts: [{type: volume, path: /c}]"), false},
		{"tmpfs naming a volume", step("mounts: [{type: tmpfs, cache: c, path: /c}]"), false},
		{"bind with a size", step("mounts: [{type: bind, path: /c, size: 1m}]"), false},
		{"cache mount with an id", step("mounts: [{cache: c, path: /c, id: x}]"), false},
		{"size", step("mounts: [{type: tmpfs, path: /t, size: lots}]"), false},
		{"relative path", step("mounts: [{cache: c, path: c}]"), false},
		{"mount over /", step("mounts: [{type: tmpfs, path: /}]"), false},
		{"mount over /..", step("mounts: [{type: tmpfs, path: /..}]"), false},
		{"tmpfs without path", step("mounts: [{type: tmpfs}]"), false},
		{"secret without id or path", step("mounts: [{type: secret, required: true}]"), false},
		{"seed from a step and a context", step("mounts: [{cache: c, path: /c, source: {step: w, context: .}}]"), false},
		{"remote copies", step("copy: [{url: \"https://example.com/t.tgz\", dest: /opt/, checksum: \"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\", chmod: \"0755\", unpack: true}, {git: \"https://example.com/r.git#v1:docs\", dest: /d, keep-git-dir: true, checksum: 4b825dc, exclude: [\"*.md\"]}, {src: a.tar, dest: /a, unpack: true}]"), true},
		{"url and src", step("copy: [{url: \"https://example.com/t.tgz\", src: a, dest: /b}]"), false},
		{"url and git", step("copy: [{url: \"https://example.com/t.tgz\", git: \"https://example.com/r.git\", dest: /b}]"), false},
		{"url from a step", step("copy: [{url: \"https://example.com/t.tgz\", from: w, dest: /b}]"), false},
		{"url not http", step("copy: [{url: \"ftp://example.com/t.tgz\", dest: /b}]"), false},
		{"git with unpack", step("copy: [{git: \"https://example.com/r.git\", dest: /b, unpack: false}]"), false},
		{"keep-git-dir on a url", step("copy: [{url: \"https://example.com/t.tgz\", dest: /b, keep-git-dir: false}]"), false},
		{"checksum on a src", step("copy: [{src: a, dest: /b, checksum: \"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}]"), false},
		{"parents on a git", step("copy: [{git: \"https://example.com/r.git\", dest: /b, parents: false}]"), false},
		{"no src, url or git", step("copy: [{dest: /b}]"), false},
		{"content", step("copy: [{content: \"a = ${DIR}\\n\", dest: /etc/a.conf, chmod: \"0600\", chown: \"1:1\", link: true}, {content: \"\", dest: empty}]"), true},
		{"content and src", step("copy: [{content: x, src: a, dest: /b}]"), false},
		{"content with exclude", step("copy: [{content: x, dest: /b, exclude: \"*.md\"}]"), false},
		{"content with unpack", step("copy: [{content: x, dest: /b, unpack: false}]"), false},
		{"content from a step", step("copy: [{content: x, from: w, dest: /b}]"), false},
		{"seed from nothing", step("mounts: [{cache: c, path: /c, source: {path: /x}}]"), false},
		{"network", step("network: bridge"), false},
		{"security", step("security: privileged"), false},
		{"step arg name", step("args: [1A]"), false},
		{"step arg listed twice", step("args: [DIR, DIR]"), false},
		{"platform arg default in a step", step("args: {TARGETARCH: amd64}"), false},
		{"chown", step("copy: [{src: a, dest: /b, chown: \"a:b:c\"}]"), false},
		{"chmod", step("copy: [{src: a, dest: /b, chmod: \"u+q\"}]"), false},
		{"chmod 0800", step("copy: [{src: a, dest: /b, chmod: \"0800\"}]"), false},
		{"empty exclude", step("copy: [{src: a, dest: /b, exclude: [\"\"]}]"), false},
		{"negative uid", step("mounts: [{type: secret, id: t, uid: -1}]"), false},
		{"uid on a cache mount", step("mounts: [{cache: c, path: /c, uid: 1}]"), false},
		{"env on a tmpfs", step("mounts: [{type: tmpfs, path: /t, env: A}]"), false},
		{"env name", step("mounts: [{type: secret, id: t, env: 1A}]"), false},
		{"owner of a secret that is no file", step("mounts: [{type: secret, id: t, env: TOKEN, mode: \"0400\"}]"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, loadErr := spec.Load([]byte(c.yaml), spec.Options{})
			if (loadErr == nil) != c.ok {
				t.Fatalf("the decoder says %v, the test wants ok=%v:\n%s", loadErr, c.ok, c.yaml)
			}
			if err := validate(t, s, []byte(c.yaml)); (err == nil) != c.ok {
				t.Errorf("the schema says %v, the decoder %v:\n%s", err, loadErr, c.yaml)
			}
		})
	}
}

// FuzzNoFalseErrors checks that the schema accepts every spec the decoder
// accepts: an editor must not flag a valid spec.
func FuzzNoFalseErrors(f *testing.F) {
	for _, pattern := range []string{"../testdata/valid/*.yaml", "../testdata/invalid/*.yaml", "../../examples/*/stowage.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource(syntax.ID, doc); err != nil {
		f.Fatal(err)
	}
	s, err := c.Compile(syntax.ID)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := spec.Load(data, spec.Options{}); err != nil {
			return
		}
		v, err := instance(data)
		if err != nil {
			return
		}
		if err := s.Validate(v); err != nil {
			t.Fatalf("the decoder accepts, the schema says %v:\n%s", err, data)
		}
	})
}
