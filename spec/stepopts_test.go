package spec

import "testing"

// TestStepArgs: a step's args follow Dockerfile's ARG in a stage: a
// --build-arg overrides a step's default, a name without a default takes the
// top-level arg's value (overridden or not), and the args are in scope in
// that step only.
func TestStepArgs(t *testing.T) {
	const src = `project: p
args: {GLOBAL: g, SHARED: top}
steps:
  a:
    from: busybox
    env: {E: "${LOCAL}-${GLOBAL}-${SHARED}"}
    run: echo ${LOCAL}
    args: {LOCAL: "l-${GLOBAL}", SHARED: step, GLOBAL: }
  b:
    from: a
    args: [SHARED, TARGETOS]
    env: {E: "${SHARED}-${TARGETOS}"}
`
	argsOf := func(st *Step) map[string]string {
		m := map[string]string{}
		for _, a := range st.Args {
			m[a.Name] = a.Value
		}
		return m
	}
	s := load(t, src, nil)
	a, b := s.Step("a"), s.Step("b")
	// args: comes last in step a, and still is in scope for env and run.
	equal(t, "a args", argsOf(a), map[string]string{"LOCAL": "l-g", "SHARED": "step", "GLOBAL": "g"})
	equal(t, "a env", a.Env, []KeyValue{{"E", "l-g-g-step"}})
	equal(t, "a run", a.Run[0].Text, "echo l-g")
	// Step b does not see a's args: SHARED is the top-level one.
	equal(t, "b args", argsOf(b), map[string]string{"SHARED": "top", "TARGETOS": "linux"})
	equal(t, "b env", b.Env, []KeyValue{{"E", "top-linux"}})

	s = load(t, src, map[string]string{"LOCAL": "L", "SHARED": "S", "GLOBAL": "G"})
	equal(t, "a args overridden", argsOf(s.Step("a")), map[string]string{"LOCAL": "L", "SHARED": "S", "GLOBAL": "G"})
	equal(t, "b args overridden", argsOf(s.Step("b")), map[string]string{"SHARED": "S", "TARGETOS": "linux"})
}

// TestSecretEnv: a secret with env: and no path is a variable only, as
// Dockerfile's RUN --mount=type=secret,env=NAME; with a path, both.
func TestSecretEnv(t *testing.T) {
	s := load(t, `project: p
steps:
  s:
    from: busybox
    mounts:
      - {type: secret, id: tok, env: TOKEN}
      - {type: secret, id: both, env: BOTH, path: /run/both}
      - {type: secret, id: file}
`, nil)
	m := s.Step("s").Mounts
	equal(t, "env only", [2]string{m[0].Path, m[0].Env}, [2]string{"", "TOKEN"})
	equal(t, "both", [2]string{m[1].Path, m[1].Env}, [2]string{"/run/both", "BOTH"})
	equal(t, "file", [2]string{m[2].Path, m[2].Env}, [2]string{"/run/secrets/file", ""})
}

func TestValidChmod(t *testing.T) {
	for s, want := range map[string]bool{
		"0644": true, "644": true, "7777": true, "07777": true, "17777": false, "0999": false,
		"u+x": true, "go-w": true, "a=rX": true, "u+x,g-w,o=": true, "+x": true, "g=u": true, "u+x-w": true,
		"": false, "u": false, "u+q": false, "x+u": false, "u+x,": false, "0o644": false,
	} {
		if got := validChmod(s); got != want {
			t.Errorf("validChmod(%q) = %v, want %v", s, got, want)
		}
	}
}
