package integration

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
)

// rendezvous makes a step wait (at most 30 s) until the step or build named
// OTHER has reached the same point, through marker files in /r, a shared
// volume both mount: the two then run at the same time on every run.
// ME and OTHER are written into the command itself: steps that differ in
// env would get init execs of their own, and the race is between steps
// whose setups are the same op.
func rendezvous(me, other string) string {
	return strings.NewReplacer("ME", me, "OTHER", other).Replace(
		`touch /r/ME; i=0; while [ ! -e /r/OTHER ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; [ -e /r/OTHER ] || { echo "stowage test: OTHER never came" >&2; exit 1; }`)
}

// privateCheck is what each step of privateSpec runs after the rendezvous.
func privateCheck(me string) string {
	return strings.ReplaceAll(`mkdir -p /tmp/out && stat -c "%u %a" /p > /tmp/out/ME &&
      cat /p/1 /p/2 /p/3 >> /tmp/out/ME &&
      if ls /p | grep -q marker; then echo "shared with $(ls /p | grep marker)" >> /tmp/out/ME; fi &&
      touch /p/marker-ME && sleep 1 && ls /p | grep marker >> /tmp/out/ME`, "ME", me)
}

// privateSpec: steps a and b each mount private volume p (owned by 1000,
// seeded with three files) as user app, at the same time.
const privateSpec = `project: private-ID
args: {ROUND: ""}
caches:
  p: {key: [p, "${ROUND}"], sharing: private, owner: "1000:1000", mode: "0750"}
  r: {key: [r, "${ROUND}"], mode: "0777"}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s && echo one > /s/1 && echo two > /s/2 && echo three > /s/3
  a:
    from: [[.Busybox]]
    user: app
    mounts:
      - {cache: r, path: /r}
      - {cache: p, path: /p, source: {step: seed, path: /s}}
    run: >-
      CHECK_A
  b:
    from: [[.Busybox]]
    user: app
    mounts:
      - {cache: r, path: /r}
      - {cache: p, path: /p, source: {step: seed, path: /s}}
    run: >-
      CHECK_B
  out:
    from: scratch
    copy:
      - {from: a, src: /tmp/out/a, dest: /a}
      - {from: b, src: /tmp/out/b, dest: /b}
`

// TestPrivateInstancesAreEachSetUp: every instance of a private volume that
// a step mounts is owned, moded and seeded as declared, when two steps of
// one build mount it at the same time (so BuildKit hands them two
// instances), over several rounds of fresh volumes.
func TestPrivateInstancesAreEachSetUp(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, strings.NewReplacer(
		"CHECK_A", rendezvous("a", "b")+"; "+privateCheck("a"),
		"CHECK_B", rendezvous("b", "a")+"; "+privateCheck("b")).Replace(privateSpec), nil)
	for round := range 3 {
		res := s.mustBuild(context.Background(), t, p, buildOpts{attrs: map[string]string{"build-arg:ROUND": fmt.Sprint(round)}})
		for _, me := range []string{"a", "b"} {
			want := "1000 750\none\ntwo\nthree\nmarker-" + me + "\n"
			if got := res.file(t, me); got != want {
				t.Errorf("round %d, step %s saw its private instance as\n%s\nwant\n%s", round, me, got, want)
			}
		}
	}
}

// TestPrivateInstancesAcrossConcurrentBuilds: the same, for two builds of one
// spec that run at the same time.
func TestPrivateInstancesAcrossConcurrentBuilds(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: private-builds-ID
args: {ROUND: "", ME: "", OTHER: ""}
caches:
  p: {key: [p, "${ROUND}"], sharing: private, owner: "1000:1000"}
  r: {key: [r, "${ROUND}"], mode: "0777"}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s && echo seeded > /s/f
  use:
    from: [[.Busybox]]
    user: app
    mounts:
      - {cache: r, path: /r}
      - {cache: p, path: /p, source: {step: seed, path: /s}}
    run: >-
      `+rendezvous("${ME}", "${OTHER}")+`;
      mkdir -p /tmp/out && stat -c %u /p > /tmp/out/got && cat /p/f >> /tmp/out/got
  out:
    from: scratch
    copy: [{from: use, src: /tmp/out, dest: /}]
`, nil)
	ctx := context.Background()
	for round := range 2 {
		var eg errgroup.Group
		for _, pair := range [][2]string{{"x", "y"}, {"y", "x"}} {
			eg.Go(func() error {
				res, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{
					"build-arg:ROUND": fmt.Sprint(round), "build-arg:ME": pair[0], "build-arg:OTHER": pair[1]}})
				if err != nil {
					return fmt.Errorf("round %d, build %s: %w\n%s", round, pair[0], err, res.logs)
				}
				if got := res.file(t, "got"); got != "1000\nseeded\n" {
					return fmt.Errorf("round %d, build %s saw its instance as %q, want owner 1000 and the seed", round, pair[0], got)
				}
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// seedRaceRounds is how many fresh volumes TestConcurrentFirstSeed races
// four builds on; CI runs one round, -seedrace.rounds more.
var seedRaceRounds = flag.Int("seedrace.rounds", 1, "rounds of TestConcurrentFirstSeed")

// TestConcurrentFirstSeed: builds that first mount one seeded shared volume
// at the same time never fail on each other's copy and never see it partly
// seeded. Each build has its own init exec (its step's env differs), so the
// setups really race; every round starts on a fresh volume.
func TestConcurrentFirstSeed(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: seedrace-ID
args: {ROUND: "", N: ""}
caches:
  c: {key: [c, "${ROUND}"]}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s/d && cd /s/d && for i in $(seq 2000); do echo $i > f$i; done
  use:
    from: [[.Busybox]]
    env: {N: "${N}"}
    mounts: [{cache: c, path: /c, source: {step: seed, path: /s}}]
    run: mkdir -p /out && ls /c/d | wc -l > /out/count && ls -A /c > /out/top
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	for round := range *seedRaceRounds {
		var eg errgroup.Group
		for n := range 4 {
			eg.Go(func() error {
				res, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{
					"build-arg:ROUND": fmt.Sprint(round), "build-arg:N": fmt.Sprint(n)}})
				if err != nil {
					return fmt.Errorf("round %d, build %d: %w\n%s", round, n, err, res.logs)
				}
				if got := strings.TrimSpace(res.file(t, "count")); got != "2000" {
					return fmt.Errorf("round %d, build %d ran on a volume holding %s of the seed's 2000 files (top level %q)\n%s", round, n, got, res.file(t, "top"), res.logs)
				}
				if got := res.file(t, "top"); got != "d\n" {
					return fmt.Errorf("round %d, build %d: the volume's top level is %q, want only the seed's d", round, n, got)
				}
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInterruptedSeedIsRedone: a volume left by a setup that was killed
// halfway (a staging directory with or without its completion mark) is
// finished or seeded again by the next build, and no step sees the staging.
func TestInterruptedSeedIsRedone(t *testing.T) {
	s := needStack(t)
	for name, leftover := range map[string]string{
		// Killed while copying: the copy is redone from scratch.
		"copy": "mkdir -p /v/.stowage-seed/data && echo half > /v/.stowage-seed/data/half",
		// Killed while moving: the moves are finished.
		"moves": "mkdir -p /v/.stowage-seed/data && touch /v/.stowage-seed/complete && echo 1 > /v/one && echo 2 > /v/.stowage-seed/data/two",
	} {
		t.Run(name, func(t *testing.T) {
			p := ownershipProject(t, s, `project: interrupted-ID
caches:
  c: {key: c}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s && echo 1 > /s/one && echo 2 > /s/two
  crash:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /v}]
    run: `+leftover+` && mkdir -p /out && touch /out/crashed
  use:
    from: [[.Busybox]]
    copy: [{from: crash, src: /out/crashed, dest: /crashed}]
    mounts: [{cache: c, path: /c, source: {step: seed, path: /s}}]
    run: mkdir -p /out && cd /c && ls -A > /out/top && cat one two > /out/content
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, nil)
			res := s.mustBuild(context.Background(), t, p, buildOpts{})
			if got := res.file(t, "top"); got != "one\ntwo\n" {
				t.Errorf("the volume after an interrupted seed holds %q, want one and two", got)
			}
			if got := res.file(t, "content"); got != "1\n2\n" {
				t.Errorf("content %q", got)
			}
		})
	}
}

// TestOwnerFollowsTheStepUser: a volume made while its step ran as one uid
// is handed to the new uid when the step's user changes, contents and all,
// instead of failing with a bare "Permission denied" (dagger#5617,
// moby/buildkit#1237).
func TestOwnerFollowsTheStepUser(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: drift-ID
args: {U: "1000"}
caches:
  c: {key: c}
steps:
  w:
    from: [[.Busybox]]
    user: "${U}"
    mounts: [{cache: c, path: /c}]
    run: mkdir -p /c/sub /tmp/out && echo ${U} >> /c/sub/log && stat -c %u /c > /tmp/out/root && stat -c %u /c/sub/log > /tmp/out/log && cat /c/sub/log > /tmp/out/lines
  out:
    from: scratch
    copy: [{from: w, src: /tmp/out, dest: /}]
`, nil)
	ctx := context.Background()
	s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:U": "1000"}})
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:U": "1001"}})
	if got := res.file(t, "root") + res.file(t, "log"); got != "1001\n1001\n" {
		t.Errorf("after the user changed to 1001, root and contents are owned by %q", got)
	}
	if got := res.file(t, "lines"); got != "1000\n1001\n" {
		t.Errorf("the volume lost what uid 1000 wrote: %q", got)
	}
	if !strings.Contains(res.logs, "giving its contents to 1001:") {
		t.Errorf("no note in the log about the owner change:\n%s", res.logs)
	}
}

// TestMissingSeedPath: a seed path that does not exist is reported at the
// mount's source, saying what is missing and where, not as BuildKit's
// "failed to calculate checksum of ref …: not found".
func TestMissingSeedPath(t *testing.T) {
	s := needStack(t)
	for name, tc := range map[string]struct{ source, want string }{
		"step":    {"{step: seed, path: /nonexistent}", `stowage.yaml:11:38: steps.use.mounts[0].source: cache volume c: its source path /nonexistent does not exist in step seed`},
		"context": {"{context: nonexistent}", `stowage.yaml:11:38: steps.use.mounts[0].source: cache volume c: its source path nonexistent does not exist in the build context`},
	} {
		t.Run(name, func(t *testing.T) {
			p := ownershipProject(t, s, `project: missing-seed-ID
caches:
  c: {key: c}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s
  use:
    from: [[.Busybox]]
    mounts:
      - {cache: c, path: /c, source: `+tc.source+`}
    run: ls /c
`, map[string]string{"present/f": "x"})
			_, err := s.build(context.Background(), t, p, buildOpts{})
			if err == nil {
				t.Fatal("the build succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}

// TestResetPrivateVolumeWithSetup: cache-reset of a private volume that
// needs setting up empties the instance the next build gets, which is then
// owned as declared again (the reset mounts the same BuildKit cache, made
// from the same setup source, as the step).
func TestResetPrivateVolumeWithSetup(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: reset-private-ID
args: {RUN: ""}
caches:
  p: {key: p, sharing: private, owner: "1000:1000"}
steps:
  w:
    from: [[.Busybox]]
    user: app
    mounts: [{cache: p, path: /p}]
    run: mkdir -p /tmp/out && echo ${RUN} >> /p/log && cp /p/log /tmp/out/log && stat -c %u /p > /tmp/out/uid
  out:
    from: scratch
    copy: [{from: w, src: /tmp/out, dest: /}]
`, nil)
	ctx := context.Background()
	s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "a"}})
	if got := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "b"}}).file(t, "log"); got != "a\nb\n" {
		t.Fatalf("before the reset the private volume's log is %q, want a, b (one instance reused)", got)
	}
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "c", "cache-reset": "p"}})
	if got := res.file(t, "log") + res.file(t, "uid"); got != "c\n1000\n" {
		t.Errorf("after cache-reset=p the instance holds %q, want only c, owned by 1000", got)
	}
}

// TestSeedWithManyTopLevelEntries: a seed whose root holds more entries
// than one mv takes (600 files, dotfiles, names with spaces and a leading
// dash, a directory, a dangling symlink) arrives whole, in the batches the
// setup moves it in.
func TestSeedWithManyTopLevelEntries(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: manyseed-ID
caches:
  c: {key: c}
steps:
  seed:
    from: [[.Busybox]]
    run: >-
      mkdir -p /s && cd /s && for i in $(seq 600); do echo $i > f$i; done &&
      echo h > .hidden && echo hh > ..double && echo sp > "with space" && echo d > ./-dash &&
      mkdir dir && echo in > dir/x && ln -s /nowhere dangling
  use:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c, source: {step: seed, path: /s}}]
    run: >-
      mkdir -p /out && ls -A /c | wc -l > /out/count && cat /c/f1 /c/f600 /c/.hidden /c/..double "/c/with space" /c/-dash /c/dir/x > /out/some &&
      readlink /c/dangling > /out/link && ls -A /c | grep -c stowage > /out/staging || true
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, nil)
	res := s.mustBuild(context.Background(), t, p, buildOpts{})
	if got := strings.TrimSpace(res.file(t, "count")); got != "606" {
		t.Errorf("the volume holds %s entries, want the seed's 606\n%s", got, res.logs)
	}
	if got := res.file(t, "some"); got != "1\n600\nh\nhh\nsp\nd\nin\n" {
		t.Errorf("seeded files read %q", got)
	}
	if got := res.file(t, "link"); got != "/nowhere\n" {
		t.Errorf("the dangling symlink reads %q, want /nowhere", got)
	}
	if got := strings.TrimSpace(res.file(t, "staging")); got != "0" {
		t.Errorf("%s staging entries left in the volume", got)
	}
}
