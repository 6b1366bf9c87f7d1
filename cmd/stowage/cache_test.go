package main

import (
	"context"
	"strings"
	"testing"
)

// TestRecordCacheID reads cache IDs from descriptions as BuildKit writes
// them (solver/llbsolver/mounts getRefCacheDir): "cached mount DEST from
// exec ARGS", then ` with id "ID"` unless the ID is DEST. Exec args may
// span lines and hold quotes.
func TestRecordCacheID(t *testing.T) {
	for desc, want := range map[string]string{
		`cached mount /c from exec /bin/sh -c ls /c with id "stowage-0123"`:                                             "stowage-0123",
		"cached mount /run/stowage/v0 from exec /bin/sh -c set -e\nstowage_setup 'c' with id \"stowage-ab.setup-lock\"": "stowage-ab.setup-lock",
		`cached mount /root/.cache from exec /bin/sh -c echo "with id \"x\""`:                                           "/root/.cache",
		`cached mount /go/pkg/mod from exec go build with id "go-mod"`:                                                  "go-mod",
		`something else`: "",
	} {
		if got := recordCacheID(desc); got != want {
			t.Errorf("recordCacheID(%q) = %q, want %q", desc, got, want)
		}
	}
}

// TestCacheHelpListsItAll: `stowage cache --help` names every command, every
// transfer type and the in-build options.
func TestCacheHelpListsItAll(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"cache", "--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"ls ", "du ", "prune ", "export ", "import ", "--policy", "--max-size", "--unused-for", "--all-of-spec", "type=local", "type=tar", "type=registry", "--force", "restore:", "cache-import", "cache-mode=readonly", "cache-reset", "docker-container://"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stowage cache --help does not mention %q", want)
		}
	}
}
