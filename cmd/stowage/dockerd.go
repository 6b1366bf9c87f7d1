package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// dockerEndpoint is the daemon the docker CLI talks to: $DOCKER_HOST, else
// the current docker context's endpoint ($DOCKER_CONTEXT, else
// config.json's currentContext), else the default socket; and why.
func dockerEndpoint() (host, why string) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h, "$DOCKER_HOST"
	}
	name, why := os.Getenv("DOCKER_CONTEXT"), "$DOCKER_CONTEXT"
	if name == "" {
		var cfg struct{ CurrentContext string }
		if dt, err := os.ReadFile(filepath.Join(dockerConfigDir(), "config.json")); err == nil && json.Unmarshal(dt, &cfg) == nil {
			name, why = cfg.CurrentContext, "docker's current context"
		}
	}
	if name != "" && name != "default" {
		if h := dockerContextHost(name); h != "" {
			return h, "docker context " + name + ", " + why
		}
	}
	return "unix:///var/run/docker.sock", "docker's default socket"
}

// dockerContextHost is the docker endpoint of docker context name, "" when
// there is no such context. buildx lists each context as a builder of the
// docker driver (Docker Desktop's desktop-linux among them).
func dockerContextHost(name string) string {
	// The context store keeps each context under the digest of its name.
	sum := sha256.Sum256([]byte(name))
	var meta struct {
		Endpoints map[string]struct{ Host string }
	}
	dt, err := os.ReadFile(filepath.Join(dockerConfigDir(), "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json"))
	if err != nil || json.Unmarshal(dt, &meta) != nil {
		return ""
	}
	return meta.Endpoints["docker"].Host
}

func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker")
}

// dockerdBuildKit says whether a dockerd answers at host and offers its
// BuildKit (GET /_ping answers Builder-Version: 2, as buildx's docker
// driver checks); if not, why, for the list of what was tried. A socket
// that merely exists (Podman's, one this user cannot open) is not enough.
func dockerdBuildKit(ctx context.Context, host string) (bool, string) {
	if p, ok := strings.CutPrefix(host, "unix://"); ok {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&os.ModeSocket == 0 {
			return false, "no dockerd at " + host
		}
	} else if !strings.HasPrefix(host, "tcp://") {
		return false, "dockerd at " + host + " is not unix:// or tcp://, which stowage dials"
	} else if os.Getenv("DOCKER_TLS_VERIFY") != "" || os.Getenv("DOCKER_CERT_PATH") != "" {
		return false, "dockerd at " + host + " wants TLS, which stowage does not speak to dockerd: pass --addr with a buildkitd address"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := dialDocker(ctx, host)
	if err != nil {
		return false, fmt.Sprintf("dockerd at %s does not answer: %v", host, err)
	}
	defer conn.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err := req.Write(conn); err != nil {
		return false, fmt.Sprintf("dockerd at %s: %v", host, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return false, fmt.Sprintf("dockerd at %s does not answer as dockerd: %v", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Builder-Version") != "2" {
		return false, fmt.Sprintf("dockerd at %s does not offer BuildKit (/_ping: %s, Builder-Version %q)", host, resp.Status, resp.Header.Get("Builder-Version"))
	}
	return true, ""
}

// dialDocker opens a connection to dockerd at host, bounded by ctx's
// deadline for as long as the caller has not cleared it.
func dialDocker(ctx context.Context, host string) (net.Conn, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("docker host %q: %w", host, err)
	}
	network, addr := u.Scheme, u.Host
	switch u.Scheme {
	case "unix":
		addr = u.Path
	case "tcp":
	default:
		return nil, fmt.Errorf("docker host %q: stowage reaches dockerd on unix:// and tcp:// only; pass --addr for others", host)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return conn, nil
}

// dockerClientOpts reach dockerd's own BuildKit as buildx's docker driver
// does: the gRPC API and the session over HTTP connections upgraded at
// /grpc and /session.
func dockerClientOpts(host string) []client.ClientOpt {
	return []client.ClientOpt{
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return dialHijack(ctx, host, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return dialHijack(ctx, host, "/session", proto, meta)
		}),
	}
}

// dialHijack opens an HTTP connection to dockerd at host, asks it to
// upgrade path to proto (with meta as headers) and returns the connection
// once it says 101 Switching Protocols, as the docker client's DialHijack.
func dialHijack(ctx context.Context, host, path, proto string, meta map[string][]string) (net.Conn, error) {
	// The handshake is bounded (a dockerd that accepts and says nothing
	// must not hang the build); the upgraded stream is not.
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := dialDocker(hctx, host)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://docker"+path, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for k, v := range meta {
		req.Header[k] = v
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", proto)
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("dockerd at %s: %w", host, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("dockerd at %s did not upgrade %s to %s: %s (is its BuildKit enabled?)", host, path, proto, resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return &bufferedConn{Conn: conn, r: br}, nil
}

// bufferedConn reads first what the response reader already buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
