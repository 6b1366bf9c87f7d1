package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestOutputs: the exporters a buildx user picks all take a Stowage build:
// --push to a registry, --output
// type=tar, type=docker and type=oci, each with the step's file in it.
func TestOutputs(t *testing.T) {
	s := needStack(t)
	id := nonce()
	p := newProject(t, s, strings.ReplaceAll(`# syntax=[[.Frontend]]
project: outputs-ID
steps:
  app:
    from: [[.Busybox]]
    run: echo ID > /made
`, "ID", id), nil)
	registry := os.Getenv("STOWAGE_REGISTRY")
	if registry == "" {
		t.Fatal("STOWAGE_REGISTRY is unset: eval \"$(hack/stack env)\"")
	}
	ref := fmt.Sprintf("%s/stowage-test/outputs:%s", registry, id)
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--provenance=false", "--push", "-t", ref, ".")
	assertManifest(t, registry, "stowage-test/outputs", id)

	dir := t.TempDir()
	for _, out := range []string{"type=tar", "type=docker", "type=oci"} {
		dest := filepath.Join(dir, strings.TrimPrefix(out, "type=")+".tar")
		s.buildx(t, p.dir, "-f", "stowage.yaml", "--output", out+",dest="+dest, ".")
		f, err := os.Open(dest)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		f.Close()
		if st.Size() == 0 {
			t.Errorf("%s wrote an empty file", out)
		}
	}
	if got := string(readTar(t, filepath.Join(dir, "tar.tar"))["made"]); got != id+"\n" {
		t.Errorf("type=tar: /made = %q, want %q", got, id+"\n")
	}
	if _, ok := readTar(t, filepath.Join(dir, "docker.tar"))["manifest.json"]; !ok {
		t.Error("type=docker: no manifest.json, so docker load would refuse it")
	}
	ociImage(t, filepath.Join(dir, "oci.tar"))
}

// assertManifest checks that the registry holds a manifest (or index) for
// repo at ref, a tag or a digest.
func assertManifest(t *testing.T, registry, repo, ref string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, fmt.Sprintf("http://%s/v2/%s/manifests/%s", registry, repo, ref), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", strings.Join([]string{ocispecs.MediaTypeImageManifest, ocispecs.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the registry has no manifest %s:%s: %s", repo, ref, resp.Status)
	}
}
