package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChooseBuilder: --addr, then --builder, then $BUILDKIT_HOST, then the
// current buildx builder (by $BUILDX_BUILDER or buildx's "current"), each
// driver's address, and an error that says what to do when there is none.
func TestChooseBuilder(t *testing.T) {
	store := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(store, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("instances/remote", `{"Name":"remote","Driver":"remote","Nodes":[{"Name":"remote0","Endpoint":"tcp://10.0.0.1:1234"}]}`)
	write("instances/dc", `{"Name":"dc","Driver":"docker-container","Nodes":[{"Name":"dc0","Endpoint":"unix:///var/run/docker.sock"}]}`)
	write("instances/k8s", `{"Name":"k8s","Driver":"kubernetes","Nodes":[{"Name":"k8s0"}]}`)
	t.Setenv("BUILDX_CONFIG", store)
	defer func(f func() []string) { defaultSocketPaths = f }(defaultSocketPaths)
	noSocket := filepath.Join(t.TempDir(), "buildkitd.sock")
	defaultSocketPaths = func() []string { return []string{noSocket} }
	// PATH and XDG dirs of the test's own: no buildkitd, then a fake one.
	empty, withBuildkitd, xdg := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(withBuildkitd, "buildkitd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_DATA_HOME", filepath.Join(xdg, "data"))
	// A dockerd's socket, and a docker context "ci" whose endpoint it is.
	// It answers /_ping as dockerd with BuildKit does; podman.sock answers
	// as a daemon without it.
	serve := func(sock, builderVersion string) {
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/_ping" {
				if builderVersion != "" {
					w.Header().Set("Builder-Version", builderVersion)
				}
				io.WriteString(w, "OK")
				return
			}
			http.NotFound(w, r)
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}
	dockerSock, podmanSock := filepath.Join(xdg, "docker.sock"), filepath.Join(xdg, "podman.sock")
	serve(dockerSock, "2")
	serve(podmanSock, "")
	dockerCfg := t.TempDir()
	sum := sha256.Sum256([]byte("ci"))
	_ = os.MkdirAll(filepath.Join(dockerCfg, "contexts", "meta", hex.EncodeToString(sum[:])), 0o755)
	if err := os.WriteFile(filepath.Join(dockerCfg, "config.json"), []byte(`{"currentContext": "ci"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dockerCfg, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json"),
		[]byte(`{"Name":"ci","Endpoints":{"docker":{"Host":"unix://`+dockerSock+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(xdg, "run"))
	for _, tc := range []struct {
		name, addr, builder, host, buildxEnv, current string
		path, dockerHost, dockerConfig                string
		want, why, err                                string
	}{
		{name: "addr wins", addr: "unix:///a.sock", builder: "remote", host: "tcp://h:1", want: "unix:///a.sock", why: "--addr"},
		{name: "builder beats env", builder: "remote", host: "tcp://h:1", want: "tcp://10.0.0.1:1234", why: "from --builder"},
		{name: "env", host: "tcp://h:1", buildxEnv: "remote", want: "tcp://h:1", why: "$BUILDKIT_HOST"},
		{name: "BUILDX_BUILDER", buildxEnv: "dc", want: "docker-container://buildx_buildkit_dc0", why: "$BUILDX_BUILDER"},
		{name: "buildx current", current: `{"Key":"x","Name":"remote","Global":false}`, want: "tcp://10.0.0.1:1234", why: "current builder"},
		{name: "kubernetes says what to pass", builder: "k8s", err: "kube-pod://"},
		{name: "unknown builder", builder: "nope", err: "no such buildx builder"},
		{name: "buildx's default builder is dockerd's", builder: "default", err: "--builder default: it is dockerd's own BuildKit, and no dockerd at"},
		{name: "a daemon without BuildKit is passed over", dockerHost: "unix://" + podmanSock, err: "does not offer BuildKit"},
		{name: "a socket that does not answer is passed over", dockerHost: "unix://" + filepath.Join(xdg, "buildkitd.sock"), err: "no buildkitd on PATH to start"},
		{name: "dockerd from DOCKER_HOST", dockerHost: "unix://" + dockerSock, want: "docker:unix://" + dockerSock, why: "dockerd's own BuildKit, through $DOCKER_HOST"},
		{name: "dockerd from the docker context", dockerConfig: dockerCfg, want: "docker:unix://" + dockerSock, why: "docker context ci, docker's current context"},
		{name: "--builder names a docker context", builder: "ci", dockerConfig: dockerCfg, want: "docker:unix://" + dockerSock, why: "docker context ci, from --builder"},
		{name: "--builder default reaches dockerd", builder: "default", dockerHost: "unix://" + dockerSock, want: "docker:unix://" + dockerSock, why: "buildx builder default from --builder"},
		{name: "nothing at all", err: "put buildkitd on PATH"},
		{name: "buildkitd on PATH", path: withBuildkitd, want: "unix://" + filepath.Join(xdg, "run", "stowage", "buildkitd.sock"), why: "to be started from PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BUILDKIT_HOST", tc.host)
			t.Setenv("BUILDX_BUILDER", tc.buildxEnv)
			t.Setenv("PATH", cmp.Or(tc.path, empty))
			// No dockerd unless the case has one, whatever this machine runs.
			host := cmp.Or(tc.dockerHost, "unix:///nonexistent/docker.sock")
			if tc.dockerConfig != "" {
				host = ""
			}
			t.Setenv("DOCKER_HOST", host)
			t.Setenv("DOCKER_CONFIG", cmp.Or(tc.dockerConfig, empty))
			os.Remove(filepath.Join(store, "current"))
			if tc.current != "" {
				write("current", tc.current)
			}
			got, err := chooseBuilder(tc.addr, tc.builder)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got.addr != tc.want || !strings.Contains(got.why, tc.why) {
				t.Errorf("got %+v, %v; want %s (%s)", got, err, tc.want, tc.why)
			}
		})
	}
}

// TestDialHijack: the bytes stowage sends dockerd are the docker client's
// hijack: POST PATH with Connection: Upgrade, Upgrade: PROTO and the
// session's headers; after dockerd's 101 the connection carries the
// protocol, bytes dockerd sent with the 101 included.
func TestDialHijack(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *http.Request, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		got <- req
		io.WriteString(c, "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nhello")
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err == nil {
			c.Write(buf)
		}
	}()
	conn, err := dialHijack(context.Background(), "unix://"+sock, "/session", "h2c", map[string][]string{"X-Docker-Expose-Session-Uuid": {"abc"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := <-got
	if req.Method != http.MethodPost || req.URL.Path != "/session" || req.Header.Get("Connection") != "Upgrade" ||
		req.Header.Get("Upgrade") != "h2c" || req.Header.Get("X-Docker-Expose-Session-Uuid") != "abc" {
		t.Errorf("dockerd got %s %s %v", req.Method, req.URL.Path, req.Header)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "hello" {
		t.Errorf("after the upgrade read %q, %v", buf, err)
	}
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(conn, buf[:4]); err != nil || string(buf[:4]) != "ping" {
		t.Errorf("the echo read %q, %v", buf[:4], err)
	}
}

// TestIsDaemon: only buildkitd (or rootlesskit running it) with --root
// exactly ours is stowage's daemon, whatever else mentions the path.
func TestIsDaemon(t *testing.T) {
	root := "/home/u/.local/share/stowage/buildkitd"
	for _, tc := range []struct {
		argv []string
		want bool
	}{
		{[]string{"/usr/bin/buildkitd", "--addr", "unix:///run/x.sock", "--root", root}, true},
		{[]string{"/usr/bin/rootlesskit", "/usr/bin/buildkitd", "--root", root}, true},
		{[]string{"tail", "-f", root + ".log"}, false},
		{[]string{"/usr/bin/buildkitd", "--root", root + "-other"}, false},
		{[]string{"vim", "--root", root}, false},
		{nil, false},
	} {
		if got := isDaemon(tc.argv, root); got != tc.want {
			t.Errorf("isDaemon(%q) = %v, want %v", tc.argv, got, tc.want)
		}
	}
}
