package integration

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// appendSpec appends RUN to a volume and exports the volume's log. The
// project and key are template parameters so each test gets fresh volumes.
const appendSpec = `project: [[.Project]]
args: {RUN: ""}
caches:
  notes: {key: [[.Key]][[if .Scope]], scope: [[.Scope]][[end]]}
steps:
  work:
    from: [[.Busybox]]
    mounts: [{cache: notes, path: /cache}]
    run: mkdir -p /out && echo "${RUN}" >> /cache/log && cp /cache/log /out/log
  out:
    from: scratch
    copy: [{from: work, src: /out/log, dest: /log}]
`

func appendProject(t *testing.T, s *stack, projectName, key, scope string) *project {
	t.Helper()
	tmpl := strings.NewReplacer("[[.Project]]", projectName, "[[.Key]]", key, "[[if .Scope]], scope: [[.Scope]][[end]]", scopeField(scope)).Replace(appendSpec)
	return newProject(t, s, tmpl, nil)
}

func scopeField(scope string) string {
	if scope == "" {
		return ""
	}
	return ", scope: " + scope
}

func runArg(v string) buildOpts {
	return buildOpts{attrs: map[string]string{"build-arg:RUN": v}}
}

func TestCacheVolumeKeepsWritesAcrossBuilds(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		p := appendProject(t, s, "persist-"+id, "notes", "")
		first := b.mustBuild(ctx, t, p, runArg("first-"+id))
		if got := first.file(t, "log"); got != "first-"+id+"\n" {
			t.Fatalf("first build: log %q", got)
		}
		// A new arg value busts the step's cache, so it runs again over the same
		// volume; --no-cache would have emptied the volume too.
		second := b.mustBuild(ctx, t, p, runArg("second-"+id))
		if got, want := second.file(t, "log"), "first-"+id+"\nsecond-"+id+"\n"; got != want {
			t.Fatalf("second build: log %q, want %q", got, want)
		}
	})
}

func TestProjectsDoNotShareVolumes(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		b.mustBuild(ctx, t, appendProject(t, s, "alpha-"+id, "shared-key", ""), runArg("alpha"))
		got := b.mustBuild(ctx, t, appendProject(t, s, "beta-"+id, "shared-key", ""), runArg("beta")).file(t, "log")
		if got != "beta\n" {
			t.Fatalf("project beta sees %q; project alpha's write leaked into it", got)
		}
	})
}

func TestGlobalVolumesAreShared(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		key := "global-" + id
		b.mustBuild(ctx, t, appendProject(t, s, "alpha-"+id, key, "global"), runArg("alpha"))
		res := b.mustBuild(ctx, t, appendProject(t, s, "beta-"+id, key, "global"), runArg("beta"))
		if got := res.file(t, "log"); got != "alpha\nbeta\n" {
			t.Fatalf("global volume seen by beta: %q, want alpha's and beta's lines\nlog:\n%s", got, res.logs)
		}
	})
}

func TestTenantSeparatesGlobalVolumes(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		key := "tenant-" + id
		p := appendProject(t, s, "p-"+id, key, "global")
		b.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "acme", "cache-tenant": "acme"}})
		got := b.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "globex", "build-arg:STOWAGE_CACHE_TENANT": "globex"}}).file(t, "log")
		if got != "globex\n" {
			t.Fatalf("tenant globex sees %q", got)
		}
	})
}

// TestLockedVolumeSerialisesBuilds runs two builds at once that each do a
// slow read-modify-write of a counter on a locked volume: with locking both
// increments land, without it one is lost.
func TestLockedVolumeSerialisesBuilds(t *testing.T) {
	s := needStack(t)
	ctx := context.Background()
	id := nonce()
	p := newProject(t, s, `project: locked-`+id+`
args: {RUN: ""}
caches:
  counter: {key: counter, sharing: locked}
steps:
  bump:
    from: [[.Busybox]]
    mounts: [{cache: counter, path: /c}]
    run: |
      n=$(cat /c/n 2>/dev/null || echo 0)
      sleep 2
      echo $((n+1)) > /c/n
      mkdir -p /out && cp /c/n /out/n
      echo "${RUN}" > /out/run
`, nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.build(ctx, t, p, runArg(id+"-"+string(rune('a'+i))))
			if err != nil {
				t.Logf("log:\n%s", res.logs)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res := s.mustBuild(ctx, t, p, runArg(id+"-final"))
	if got := strings.TrimSpace(res.file(t, "out/n")); got != "3" {
		t.Fatalf("counter after 2 concurrent builds and 1 more is %s, want 3: a locked write was lost", got)
	}
}

func TestImageConfigIsDeclared(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, `project: config
steps:
  app:
    from: [[.Busybox]]
    workdir: /srv
    env: {MODE: production}
    user: "1000:1000"
    entrypoint: [/bin/sh, -c]
    cmd: [echo hello]
    expose: ["8080/tcp"]
    labels: {org.opencontainers.image.title: config-test}
    volumes: [/data]
    stopsignal: SIGQUIT
    healthcheck: {test: "wget -q -O- localhost:8080", interval: 30s, start-period: 5s, retries: 3}
    run: touch made
  quiet:
    from: app
    healthcheck: none
`, nil)
	image := func(target string) dockerspec.DockerOCIImage {
		tarball := filepath.Join(t.TempDir(), "image.tar")
		res, err := s.build(context.Background(), t, p, buildOpts{attrs: map[string]string{"target": target},
			export: client.ExportEntry{Type: client.ExporterOCI, Output: fileOutput(tarball)}})
		if err != nil {
			t.Fatalf("%v\n%s", err, res.logs)
		}
		return ociImage(t, tarball)
	}
	img := image("app")
	cfg := img.Config
	checks := []struct {
		what      string
		got, want string
	}{
		{"workdir", cfg.WorkingDir, "/srv"},
		{"user", cfg.User, "1000:1000"},
		{"entrypoint", strings.Join(cfg.Entrypoint, " "), "/bin/sh -c"},
		{"cmd", strings.Join(cfg.Cmd, " "), "echo hello"},
		{"env", strings.Join(cfg.Env, " "), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin MODE=production"},
		{"label", cfg.Labels["org.opencontainers.image.title"], "config-test"},
		{"platform", img.OS + "/" + img.Architecture, "linux/amd64"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v lack 8080/tcp", cfg.ExposedPorts)
	}
	if _, ok := cfg.Volumes["/data"]; !ok || cfg.StopSignal != "SIGQUIT" {
		t.Errorf("volumes %v, stop signal %q; want /data and SIGQUIT", cfg.Volumes, cfg.StopSignal)
	}
	want := dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "wget -q -O- localhost:8080"}, Interval: 30 * time.Second, StartPeriod: 5 * time.Second, Retries: 3}
	if h := cfg.Healthcheck; h == nil || !reflect.DeepEqual(*h, want) {
		t.Errorf("healthcheck %+v, want %+v", h, want)
	}
	// A step built on app inherits its config and can switch the check off.
	quiet := image("quiet").Config
	if _, ok := quiet.Volumes["/data"]; !ok || quiet.StopSignal != "SIGQUIT" || quiet.Healthcheck == nil || strings.Join(quiet.Healthcheck.Test, " ") != "NONE" {
		t.Errorf("quiet: volumes %v, stop signal %q, healthcheck %+v; want app's, with test NONE", quiet.Volumes, quiet.StopSignal, quiet.Healthcheck)
	}
}

// TestNewKeyRerunsTheStep changes only a volume's key: the step must run
// again over the new, empty volume instead of being answered from cache
// (BuildKit leaves cache IDs out of exec cache keys, moby/moby#47693).
func TestNewKeyRerunsTheStep(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		b.mustBuild(ctx, t, appendProject(t, s, "rekey-"+id, "v1", ""), runArg("a"))
		// The cached result of the step with RUN=b has log "a\nb".
		if got := b.mustBuild(ctx, t, appendProject(t, s, "rekey-"+id, "v1", ""), runArg("b")).file(t, "log"); got != "a\nb\n" {
			t.Fatalf("second build on v1: log %q", got)
		}
		res := b.mustBuild(ctx, t, appendProject(t, s, "rekey-"+id, "v2", ""), runArg("b"))
		if got := res.file(t, "log"); got != "b\n" {
			t.Fatalf("after the key changed, the log is %q: the step did not run on the new volume\n%s", got, res.logs)
		}
	})
}
