package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStackUsesItsOwnImages: every image the tests build on is the one
// hack/stack pushed, by digest, not whatever a registry serves under its tag.
func TestStackUsesItsOwnImages(t *testing.T) {
	s := needStack(t)
	state := os.Getenv("STOWAGE_STACK_DIR")
	if state == "" {
		t.Fatal("STOWAGE_STACK_DIR is not set: run hack/stack env")
	}
	for _, ref := range []string{s.busybox, s.golang, s.frontend} {
		rel := strings.SplitN(ref, "/", 2)[1]
		file := filepath.Join(state, "digests", strings.NewReplacer("/", "_", ":", "_").Replace(rel))
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: no digest recorded by hack/stack: %v", ref, err)
		}
		if got := registryDigest(t, ref); got != strings.TrimSpace(string(want)) {
			t.Errorf("%s: the registry serves %s, hack/stack pushed %s", ref, got, want)
		}
	}
}

// TestStackRefusesAForeignRegistry: hack/stack up on an address where a
// registry it did not start answers stops with a message that says so,
// instead of trusting that registry's images by tag.
func TestStackRefusesAForeignRegistry(t *testing.T) {
	needStack(t)
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	writeFile(t, cfg, fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n", filepath.Join(dir, "data"), addr))
	reg := exec.Command("docker-registry", "serve", cfg)
	if err := reg.Start(); err != nil {
		t.Fatalf("docker-registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Process.Kill(); _ = reg.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the foreign registry did not come up on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Bounded: a stack that trusted the registry would go on to build.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot(t), "hack", "stack"), "up")
	cmd.Env = append(os.Environ(), "STOWAGE_STACK_DIR="+filepath.Join(dir, "stack"), "STOWAGE_REGISTRY_ADDR="+addr)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("hack/stack up trusted the registry on %s:\n%s", addr, out)
	}
	if !strings.Contains(string(out), "a registry that hack/stack did not start") {
		t.Errorf("hack/stack up failed without saying why:\n%s", out)
	}
}

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
