package frontend

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stowage-build/stowage/spec"
)

func TestSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct {
		v, want, err string
	}{
		{"", "", ""},
		{"0", "1970-01-01T00:00:00Z", ""},
		{"1700000000", "2023-11-14T22:13:20Z", ""},
		{"-1", "", `SOURCE_DATE_EPOCH="-1": want whole seconds since 1970-01-01 UTC, like $(git log -1 --format=%ct)`},
		{"2023-11-14", "", `SOURCE_DATE_EPOCH="2023-11-14": want whole seconds since 1970-01-01 UTC, like $(git log -1 --format=%ct)`},
	} {
		args := map[string]string{}
		if tc.v != "" {
			args["SOURCE_DATE_EPOCH"] = tc.v
		}
		got, err := sourceDateEpoch(args)
		var gotS, errS string
		if got != nil {
			gotS = got.Format(time.RFC3339)
		}
		if err != nil {
			errS = err.Error()
		}
		if gotS != tc.want || errS != tc.err {
			t.Errorf("SOURCE_DATE_EPOCH=%q: %q, %q; want %q, %q", tc.v, gotS, errS, tc.want, tc.err)
		}
	}
}

func TestLocateError(t *testing.T) {
	s, err := spec.Load([]byte(`project: p
steps:
  a:
    from: busybox
    security: insecure
    mounts:
      - {type: secret, id: tok, required: true}
      - {type: ssh, required: true}
      - {type: secret, id: opt}
    run: "true"
  b:
    from: busybox
    run: "true"
`), spec.Options{File: "stowage.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !needsEvaluation(s, []string{"a"}) || needsEvaluation(s, []string{"b"}) {
		t.Error("needsEvaluation: want a (insecure, required secret and SSH) and not b")
	}
	for _, tc := range []struct{ buildkit, want string }{
		{"secret tok: not found", `stowage.yaml:7:9: steps.a.mounts[0]: step a needs the secret "tok" (required: true), and this build does not pass it; build with ` + "`--secret id=tok,src=FILE`"},
		{"unset ssh forward key default", `stowage.yaml:8:9: steps.a.mounts[1]: step a needs the SSH agent "default" (required: true), and this build does not forward it; build with ` + "`--ssh default`"},
		{`no SSH key "default" forwarded from the client`, `stowage.yaml:8:9: steps.a.mounts[1]: step a needs the SSH agent "default"`},
		{"granting entitlement security.insecure is not allowed by build daemon configuration", ""},
		{"failed to compute cache key: security.insecure is not allowed", `stowage.yaml:5:15: steps.a.security: step a runs with security: insecure`},
		{"secret opt: not found", ""}, // an optional secret is never an error
		{"exit code: 1", ""},
	} {
		got := locateError(errors.New(tc.buildkit), s, []string{"a", "b"}).Error()
		if tc.want == "" {
			if got != tc.buildkit {
				t.Errorf("%q became %q; want it passed through", tc.buildkit, got)
			}
		} else if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q became %q; want it to start %q", tc.buildkit, got, tc.want)
		}
	}
}
