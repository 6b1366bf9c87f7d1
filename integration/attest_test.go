package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeScanner is an SBOM generator image in BuildKit's scanner protocol: it
// writes an in-toto statement of an SPDX document listing the files of what
// it scans. The real one
// (docker/buildkit-syft-scanner) comes from Docker Hub, which this stack
// does not reach.
const fakeScanner = `FROM BUSYBOX
COPY --chmod=0755 <<'EOF' /scan
#!/bin/sh
set -e
files=$(cd "$BUILDKIT_SCAN_SOURCE" && find . -type f | sed 's|^\.||' | sort | awk '{printf "%s{\"fileName\":\"%s\",\"SPDXID\":\"SPDXRef-%d\"}", (NR>1?",":""), $0, NR}')
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"fake","files":[%s]}}' "$files" > "$BUILDKIT_SCAN_DESTINATION/fake.spdx.json"
EOF
ENTRYPOINT ["/scan"]
`

// TestSBOMAttestation: --attest type=sbom runs the generator over the
// step's result (BuildKit does it for any frontend that makes no SBOM of
// its own) and attaches its SPDX document to the image, and --attest
// type=provenance rides along.
func TestSBOMAttestation(t *testing.T) {
	s := needStack(t)
	registry := os.Getenv("STOWAGE_REGISTRY")
	if registry == "" {
		t.Fatal("STOWAGE_REGISTRY is unset: eval \"$(hack/stack env)\"")
	}
	scanner := registry + "/stowage-test/sbom-scanner:latest"
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), strings.Replace(fakeScanner, "BUSYBOX", s.busybox, 1))
	s.buildx(t, dir, "--provenance=false", "--push", "-t", scanner, ".")

	p := ownershipProject(t, s, `# syntax=[[.Frontend]]
project: sbom-ID
steps:
  app:
    from: [[.Busybox]]
    run: echo made > /made-by-stowage
`, nil)
	layout := filepath.Join(t.TempDir(), "layout")
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--attest", "type=sbom,generator="+scanner,
		"--attest", "type=provenance,mode=min", "--output", "type=oci,tar=false,dest="+layout, ".")

	blobs := ociBlobs(t, layout)
	var idx ocispecs.Index
	mustJSON(t, blobs["index.json"], &idx)
	var inner ocispecs.Index
	mustJSON(t, blobs[blobPath(idx.Manifests[0].Digest.String())], &inner)
	predicates := map[string]string{}
	for _, m := range inner.Manifests {
		if m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		var mfst ocispecs.Manifest
		mustJSON(t, blobs[blobPath(m.Digest.String())], &mfst)
		for _, l := range mfst.Layers {
			predicates[l.Annotations["in-toto.io/predicate-type"]] = string(blobs[blobPath(l.Digest.String())])
		}
	}
	var types []string
	for k := range predicates {
		types = append(types, k)
	}
	slices.Sort(types)
	spdx, ok := predicates["https://spdx.dev/Document"]
	if !ok {
		t.Fatalf("no SPDX attestation; predicates: %v", types)
	}
	var stmt struct {
		Predicate struct {
			Files []struct{ FileName string } `json:"files"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal([]byte(spdx), &stmt); err != nil {
		t.Fatalf("%v in %s", err, spdx)
	}
	if !slices.ContainsFunc(stmt.Predicate.Files, func(f struct{ FileName string }) bool { return f.FileName == "/made-by-stowage" }) {
		t.Errorf("the SBOM does not list /made-by-stowage, so it did not scan the step's result: %s", spdx)
	}
	if !slices.ContainsFunc(types, func(p string) bool { return strings.HasPrefix(p, "https://slsa.dev/provenance/") }) {
		t.Errorf("no provenance attestation next to the SBOM; predicates: %v", types)
	}
}
