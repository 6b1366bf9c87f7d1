package frontend

import (
	"testing"
	"time"
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
