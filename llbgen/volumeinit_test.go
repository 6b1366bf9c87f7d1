package llbgen

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// TestVolumeInit checks the init exec of testdata/lower/volumeinit.yaml: its
// cache mounts stay on scratch with the step's IDs and sharing (a source
// would make BuildKit key the cache by id + source, moby/buildkit#1673), it
// runs as root without IgnoreCache, and the step's commands run on it.
func TestVolumeInit(t *testing.T) {
	def := marshal(t, mustLower(t, load(t, "testdata/lower/volumeinit.yaml"), testOptions()))
	g := graphOf(t, def)
	ids := map[string]*pb.Mount{} // ID -> the step's own mount
	var inits []*pb.ExecOp
	for d, op := range g.ops {
		e := op.GetExec()
		if e == nil {
			continue
		}
		if strings.Contains(def.Metadata[d].Description["llb.customname"], "init cache volumes") {
			inits = append(inits, e)
			if def.Metadata[d].IgnoreCache {
				t.Error("init exec has IgnoreCache: its cache mounts would be throwaway")
			}
			continue
		}
		for _, m := range e.Mounts {
			if m.MountType == pb.MountType_CACHE {
				ids[m.CacheOpt.ID] = m
			}
		}
	}
	if len(inits) != 2 {
		t.Fatalf("%d init execs, want 2 (work and nonroot; root runs as uid 0)", len(inits))
	}
	for _, e := range inits {
		if e.Meta.User != "0" {
			t.Errorf("init exec runs as %q, want 0", e.Meta.User)
		}
		if !strings.Contains(strings.Join(e.Meta.Env, " "), CacheIDsEnv+"=/run/stowage/v0=stowage-") {
			t.Errorf("init exec env %q lacks %s", e.Meta.Env, CacheIDsEnv)
		}
		for _, m := range e.Mounts {
			if m.MountType != pb.MountType_CACHE {
				continue
			}
			if m.Input != -1 {
				t.Errorf("%s: init cache mount has input %d, want scratch", m.Dest, m.Input)
			}
			if m.CacheOpt.ID == LockGuardID || strings.HasSuffix(m.CacheOpt.ID, ".setup-lock") {
				// Locks hold nothing; they only order the execs.
				if m.CacheOpt.Sharing != pb.CacheSharingOpt_LOCKED {
					t.Errorf("%s: lock %s has sharing %v", m.Dest, m.CacheOpt.ID, m.CacheOpt.Sharing)
				}
				continue
			}
			step, ok := ids[m.CacheOpt.ID]
			if !ok {
				t.Errorf("%s: init mounts %s, which no command mounts", m.Dest, m.CacheOpt.ID)
			} else if step.CacheOpt.Sharing != m.CacheOpt.Sharing {
				t.Errorf("%s: sharing %v, the step's commands use %v", m.Dest, m.CacheOpt.Sharing, step.CacheOpt.Sharing)
			}
		}
	}
	first, init := g.byName("[work 2/3] RUN ls -la /owned /named /seeded /ctxseed"), g.byName("[work] init cache volumes owned named seeded ctxseed namedseed")
	if !g.reaches(first, init) {
		t.Error("the step's first command does not run on the init exec")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"1000:1000": `'1000:1000'`,
		"it's":      `'it'\''s'`,
		"$(reboot)": `'$(reboot)'`,
		"":          `''`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestVolumeInitDeterministic: the init exec's script and mounts come out in
// the same order every time, or BuildKit would miss its cache.
func TestVolumeInitDeterministic(t *testing.T) {
	var first string
	for i := range 20 {
		got := dump(t, marshal(t, mustLower(t, load(t, "testdata/lower/volumeinit.yaml"), testOptions())))
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("lowering %d differs from the first", i)
		}
	}
}

// TestRestoreLowering checks restore:: the probe is asked once a volume
// however many steps mount it, the earlier volume it names is mounted
// read-only into the init exec with the volume's sharing, the init exec
// records the volume in each restore point, and an answer that is not a
// cache ID is ignored rather than mounted.
func TestRestoreLowering(t *testing.T) {
	const yaml = `project: p
caches:
  npm: {key: [npm, lock-2], restore: [[npm, linux], npm], sharing: locked}
steps:
  a: {from: scratch, run: "true", mounts: [{cache: npm, path: /c}]}
  b: {from: a, run: "true", mounts: [{cache: npm, path: /c}]}
`
	earlier := "stowage-" + strings.Repeat("ab", 16)
	for _, tc := range []struct {
		answer  string
		want    string
		sharing pb.CacheSharingOpt
	}{
		{earlier + " locked\n", earlier, pb.CacheSharingOpt_LOCKED},
		// A volume recorded as shared is mounted shared, as its builds do.
		{earlier + " shared\n", earlier, pb.CacheSharingOpt_SHARED},
		{"../../etc locked", "", 0},
		{"", "", 0},
	} {
		s := loadYAML(t, []byte(yaml))
		opt := testOptions()
		asked := 0
		opt.ReadProbe = func(ctx context.Context, probe llb.State) ([]byte, error) {
			asked++
			def, err := probe.Marshal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(bytes.Join(def.Def, nil)), ".restore") {
				t.Error("the probe does not mount the restore points")
			}
			return []byte(tc.answer), nil
		}
		res := mustLower(t, s, opt)
		if asked != 1 {
			t.Errorf("answer %q: probe asked %d times, want once", tc.answer, asked)
		}
		v := res.Volumes[0]
		if len(v.Restore) != 2 || v.Restore[0] == v.Restore[1] || v.Restore[0] == v.ID {
			t.Fatalf("restore IDs %q of %s", v.Restore, v.ID)
		}
		def := marshal(t, res)
		g := graphOf(t, def)
		var seeded, recorded, inits int
		for d, op := range g.ops {
			e := op.GetExec()
			if e == nil {
				continue
			}
			if strings.Contains(def.Metadata[d].Description["llb.customname"], "init cache volumes") {
				inits++
			}
			for _, m := range e.Mounts {
				switch {
				case m.MountType != pb.MountType_CACHE:
				case m.CacheOpt.ID == earlier:
					seeded++
					if !m.Readonly || m.CacheOpt.Sharing != tc.sharing {
						t.Errorf("answer %q: earlier volume mounted readonly=%v sharing=%v, want read-only and %v", tc.answer, m.Readonly, m.CacheOpt.Sharing, tc.sharing)
					}
				case m.CacheOpt.ID == RestorePointID(v.Restore[0]) || m.CacheOpt.ID == RestorePointID(v.Restore[1]):
					if !m.Readonly {
						recorded++
					}
				}
			}
		}
		if inits != 2 {
			t.Fatalf("%d init execs, want one a step", inits)
		}
		if want := map[bool]int{true: inits, false: 0}[tc.want != ""]; seeded != want {
			t.Errorf("answer %q: earlier volume mounted %d times, want %d", tc.answer, seeded, want)
		}
		if recorded != 2*inits {
			t.Errorf("answer %q: %d restore points recorded, want %d (two keys an init exec)", tc.answer, recorded, 2*inits)
		}
	}
}

// TestRestoreProbeFromScratch: a chain from scratch has no image to probe
// in, so the probe runs on the step's own filesystem (whose shell its
// copies brought).
func TestRestoreProbeFromScratch(t *testing.T) {
	s := loadYAML(t, []byte(`project: p
caches:
  c: {key: [c, "2"], restore: [c]}
steps:
  s:
    from: scratch
    copy: [{from: "busybox:1.37", src: /bin, dest: /bin}]
    mounts: [{cache: c, path: /c}]
    run: "true"
`))
	opt := testOptions()
	probed := false
	opt.ReadProbe = func(ctx context.Context, probe llb.State) ([]byte, error) {
		probed = true
		def, err := probe.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(string(bytes.Join(def.Def, nil)), "docker-image://docker.io/library/busybox:1.37") {
			t.Error("the probe does not run on the step's filesystem, which holds the copied shell")
		}
		return nil, nil
	}
	mustLower(t, s, opt)
	if !probed {
		t.Error("no probe")
	}
}
