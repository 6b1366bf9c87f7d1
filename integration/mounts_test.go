package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// secretSpec reads secret tok three ways: as the default file, as a variable
// only, and as a file of its own owner and mode; it records what it saw
// without ever writing the value. ID makes the commands new to the builder.
const secretSpec = `# syntax=[[.Frontend]]
project: secrets-ID
steps:
  use:
    from: [[.Busybox]]
    mounts:
      - {type: secret, id: tok}
      - {type: secret, id: tok, env: TOKEN}
      - {type: secret, id: tok, path: /home/app/tok, uid: 1000, gid: 1000, mode: "0440"}
      - {type: secret, id: absent}
    run: >-
      echo ID && mkdir -p /out &&
      if [ "$(cat /run/secrets/tok)" = "$TOKEN" ] && [ -n "$TOKEN" ]; then echo same; else echo differ; fi > /out/same &&
      if [ "$(cat /home/app/tok)" = "$TOKEN" ]; then echo same; else echo differ; fi > /out/same-owned &&
      stat -c "%u %g %a" /home/app/tok > /out/owned &&
      stat -c "%a" /run/secrets/tok > /out/default-mode &&
      if [ -e /run/secrets/absent ]; then echo present; else echo absent; fi > /out/optional
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
  required:
    from: [[.Busybox]]
    mounts: [{type: secret, id: absent, required: true}]
    run: echo ID
`

// TestSecretMounts builds through buildx with --secret: the secret reaches
// the command as files (with uid, gid and mode) and as a variable; an
// optional secret the client lacks is simply absent, a required one fails
// the build; and the value is nowhere in the image (layers, config,
// history), in the provenance (which holds the build's LLB and args), in
// BuildKit's record of the build (buildx history), or in the cache key: a
// new value answers the command from cache.
func TestSecretMounts(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, secretSpec, nil)
	secretDir := t.TempDir()
	value := "s3cr3t-" + nonce()
	secretFile := filepath.Join(secretDir, "tok")
	if err := os.WriteFile(secretFile, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	meta := filepath.Join(t.TempDir(), "meta.json")
	log := s.buildx(t, p.dir, "-f", "stowage.yaml", "--target", "out", "--secret", "id=tok,src="+secretFile, "--metadata-file", meta, "--output", "type=local,dest="+out, ".")
	for name, want := range map[string]string{
		"same": "same\n", "same-owned": "same\n", "owned": "1000 1000 440\n", "default-mode": "400\n", "optional": "absent\n",
	} {
		assertFile(t, filepath.Join(out, name), want, log)
	}
	if strings.Contains(log, value) {
		t.Errorf("the build log shows the secret's value:\n%s", log)
	}
	checkHistoryRecord(t, s, meta, value)

	// The image, with a provenance attestation that records the LLB.
	tarball := filepath.Join(t.TempDir(), "image.tar")
	log = s.buildx(t, p.dir, "-f", "stowage.yaml", "--target", "use", "--secret", "id=tok,src="+secretFile,
		"--provenance=mode=max", "--output", "type=oci,dest="+tarball, ".")
	blobs := readTar(t, tarball)
	if len(blobs) < 4 {
		t.Fatalf("the OCI tarball holds %d files; want layers, configs and the provenance", len(blobs))
	}
	provenance := false
	for name, dt := range blobs {
		if bytes.Contains(dt, []byte("https://slsa.dev/provenance")) {
			provenance = true
		}
		if bytes.Contains(dt, []byte(value)) {
			t.Errorf("%s of the image holds the secret's value", name)
		}
		layer, ok := gunzipTar(dt)
		if !ok {
			continue
		}
		for entry, content := range layer {
			if bytes.Contains(content, []byte(value)) {
				t.Errorf("layer %s: %s holds the secret's value", name, entry)
			}
			if strings.Contains(entry, "run/secrets/") || strings.HasSuffix(entry, "home/app/tok") {
				t.Errorf("layer %s holds the secret's mount point %s", name, entry)
			}
		}
	}
	if !provenance {
		t.Errorf("no provenance attestation in the tarball; cannot check the LLB for the secret:\n%s", log)
	}

	// A new value is not a new cache key: the command comes from cache.
	if err := os.WriteFile(secretFile, []byte(value+"-rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	log = s.buildx(t, p.dir, "-f", "stowage.yaml", "--target", "out", "--secret", "id=tok,src="+secretFile, "--output", "type=local,dest="+t.TempDir(), ".")
	if !vertexCached(log, "[use 2/2] RUN") {
		t.Errorf("a new secret value re-ran the command; secrets must stay out of the cache key:\n%s", log)
	}

	// A required secret the client does not send fails the build.
	log, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=plain", "-f", "stowage.yaml", "--target", "required", ".")
	if err == nil {
		t.Fatalf("a build without the required secret succeeded:\n%s", log)
	}
	// At the mount's line, saying what to pass.
	for _, want := range []string{
		fmt.Sprintf("stowage.yaml:%d:", lineOf(t, p, "id: absent, required: true")),
		`steps.required.mounts[0]: step required needs the secret "absent" (required: true), and this build does not pass it`,
		"--secret id=absent,src=FILE",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the error lacks %q:\n%s", want, log)
		}
	}
}

// checkHistoryRecord exports BuildKit's record of the build buildx wrote
// metadata for (its logs, trace, provenance and LLB) and fails if any of it
// holds value.
func checkHistoryRecord(t *testing.T, s *stack, metadataFile, value string) {
	t.Helper()
	var meta struct {
		Ref string `json:"buildx.build.ref"`
	}
	dt, err := os.ReadFile(metadataFile)
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, dt, &meta)
	ref := meta.Ref[strings.LastIndex(meta.Ref, "/")+1:]
	bundle := filepath.Join(t.TempDir(), "record.dockerbuild")
	if out, err := run(t, ".", "docker", "buildx", "history", "export", "--builder", s.builder, "--finalize", "-o", bundle, ref); err != nil {
		t.Fatalf("docker buildx history export %s: %v\n%s", ref, err, out)
	}
	dt, err = os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	files, ok := gunzipTar(dt)
	if !ok || len(files) < 3 {
		t.Fatalf("the history record of %s is not a gzipped OCI layout (%d files)", ref, len(files))
	}
	for name, content := range files {
		if plain, ok := gunzip(content); ok {
			content = plain
		}
		if bytes.Contains(content, []byte(value)) {
			t.Errorf("the build's history record holds the secret's value in %s", name)
		}
	}
}

func gunzip(dt []byte) ([]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(zr)
	return out, err == nil
}

// vertexCached reports whether the vertex whose name starts with prefix was
// answered from cache in a plain progress log.
func vertexCached(log, prefix string) bool {
	m := regexp.MustCompile(`(?m)^#(\d+) ` + regexp.QuoteMeta(prefix)).FindStringSubmatch(log)
	return m != nil && regexp.MustCompile(`(?m)^#`+m[1]+` CACHED$`).MatchString(log)
}

// gunzipTar reads a gzipped tarball (a layer) by entry name; ok is false
// for anything else.
func gunzipTar(dt []byte) (map[string][]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return nil, false
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			return nil, false
		}
		out[h.Name] = content
	}
}

// agentClient lists the identities of the SSH agent at $SSH_AUTH_SOCK (or at
// the socket named as its argument) by their comments, speaking the agent
// protocol directly: the busybox image has no ssh-add.
const agentClient = `package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if len(os.Args) > 1 {
		sock = os.Args[1]
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// SSH_AGENTC_REQUEST_IDENTITIES
	if _, err := c.Write([]byte{0, 0, 0, 1, 11}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n uint32
	if err := binary.Read(c, binary.BigEndian, &n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(c, msg); err != nil || len(msg) < 5 || msg[0] != 12 {
		fmt.Fprintln(os.Stderr, "bad agent answer", err)
		os.Exit(1)
	}
	p := msg[5:]
	for range binary.BigEndian.Uint32(msg[1:5]) {
		blob := binary.BigEndian.Uint32(p)
		p = p[4+blob:]
		comment := binary.BigEndian.Uint32(p)
		fmt.Println(string(p[4 : 4+comment]))
		p = p[4+comment:]
	}
}
`

// startAgent starts an ssh-agent on a socket in a fresh directory, holding
// one new key whose comment is returned; the agent is stopped with the test.
func startAgent(t *testing.T) (sock, comment string) {
	t.Helper()
	for _, tool := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the SSH forwarding test needs OpenSSH's client tools (hack/stack up installs openssh-client)", tool)
		}
	}
	dir := t.TempDir()
	sock = filepath.Join(dir, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		_ = agent.Wait()
	})
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i == 100 {
			t.Fatal("ssh-agent did not create its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	comment = "stowage-key-" + nonce()
	key := filepath.Join(dir, "id")
	if out, err := run(t, dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock, comment
}

// TestSSHMounts forwards a local ssh-agent through buildx --ssh: the
// default socket at $SSH_AUTH_SOCK, a named one at its own path with its
// uid and mode; a required socket the client does not forward fails.
func TestSSHMounts(t *testing.T) {
	s := needStack(t)
	sock, comment := startAgent(t)
	p := ownershipProject(t, s, `# syntax=[[.Frontend]]
project: ssh-ID
steps:
  use:
    from: [[.Busybox]]
    mounts:
      - {type: bind, path: /t}
      - {type: ssh}
      - {type: ssh, id: other, path: /run/other.sock, uid: 1000, mode: "0660", required: true}
    run: >-
      echo ID && mkdir -p /out && /t/agentls > /out/default && /t/agentls /run/other.sock > /out/other &&
      stat -c "%u %a" /run/other.sock > /out/other-stat
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
  required:
    from: [[.Busybox]]
    mounts: [{type: ssh, id: unsent, required: true}]
    run: echo ID
`, nil)
	// The client, built for the step's Linux.
	src := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(src, []byte(agentClient), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(p.dir, "agentls"), src)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the agent client: %v\n%s", err, out)
	}

	out := t.TempDir()
	log := s.buildx(t, p.dir, "-f", "stowage.yaml", "--target", "out", "--ssh", "default="+sock, "--ssh", "other="+sock, "--output", "type=local,dest="+out, ".")
	assertFile(t, filepath.Join(out, "default"), comment+"\n", log)
	assertFile(t, filepath.Join(out, "other"), comment+"\n", log)
	assertFile(t, filepath.Join(out, "other-stat"), "1000 660\n", log)

	log, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=plain", "-f", "stowage.yaml", "--target", "required", "--ssh", "default="+sock, ".")
	if err == nil {
		t.Fatalf("a build without the required SSH socket succeeded:\n%s", log)
	}
	for _, want := range []string{
		fmt.Sprintf("stowage.yaml:%d:", lineOf(t, p, "id: unsent, required: true")),
		`steps.required.mounts[0]: step required needs the SSH agent "unsent" (required: true), and this build does not forward it`,
		"--ssh unsent",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the error lacks %q:\n%s", want, log)
		}
	}
}

// TestBindMounts: a bind mount reads a step or the build context, read-only
// by default; a writable one takes writes that are thrown away after the
// command.
func TestBindMounts(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: bind-ID
steps:
  tools:
    from: [[.Busybox]]
    run: mkdir -p /opt/t && echo tool > /opt/t/f
  use:
    from: [[.Busybox]]
    mounts:
      - {type: bind, from: tools, src: /opt/t, path: /t}
      - {type: bind, from: tools, src: /opt/t, path: /rw, readonly: false}
      - {type: bind, path: /ctx}
      - {type: bind, from: context, src: sub, path: /sub}
    run: >-
      echo ID && mkdir -p /out && cat /t/f > /out/ro &&
      if touch /t/new 2>/dev/null; then echo writable; else echo readonly; fi > /out/ro-write &&
      echo changed > /rw/f && cat /rw/f > /out/rw &&
      cat /ctx/top.txt > /out/ctx && cat /sub/inner.txt > /out/sub
  after:
    from: [[.Busybox]]
    mounts: [{type: bind, from: tools, src: /opt/t, path: /t}]
    run: echo ID && mkdir -p /out && cat /t/f > /out/after
  out:
    from: scratch
    copy:
      - {from: use, src: /out, dest: /}
      - {from: after, src: /out, dest: /}
`, map[string]string{"top.txt": "top\n", "sub/inner.txt": "inner\n"})
	res := s.mustBuild(context.Background(), t, p, buildOpts{})
	for name, want := range map[string]string{
		"ro": "tool\n", "ro-write": "readonly\n", "rw": "changed\n", "ctx": "top\n", "sub": "inner\n", "after": "tool\n",
	} {
		if got := res.file(t, name); got != want {
			t.Errorf("%s = %q, want %q\n%s", name, got, want, res.logs)
		}
	}
}

// lineOf is the 1-based line of the project's stowage.yaml that holds text.
func lineOf(t *testing.T, p *project, text string) int {
	t.Helper()
	for i, l := range strings.Split(readFile(t, filepath.Join(p.dir, "stowage.yaml")), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("stowage.yaml has no line with %q", text)
	return 0
}
