package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// lockTimeout bounds a build that could deadlock: far longer than the
// builds take, far shorter than "forever".
const lockTimeout = 90 * time.Second

// TestSwappedLockedMountsDoNotDeadlock: two steps of one build that mount
// the same two locked volumes at swapped paths hung forever, every time, on
// fresh volumes (BuildKit takes locks in mount path order). Each round uses
// fresh volumes.
func TestSwappedLockedMountsDoNotDeadlock(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: swapped-ID
args: {ROUND: ""}
caches:
  a: {key: [a, "${ROUND}"], sharing: locked}
  b: {key: [b, "${ROUND}"], sharing: locked}
steps:
  one:
    from: [[.Busybox]]
    mounts: [{cache: a, path: /x}, {cache: b, path: /y}]
    run: sleep 0.3 && echo one >> /x/log && echo one >> /y/log && mkdir -p /out && echo ok > /out/one
  two:
    from: [[.Busybox]]
    mounts: [{cache: b, path: /x}, {cache: a, path: /y}]
    run: sleep 0.3 && echo two >> /x/log && echo two >> /y/log && mkdir -p /out && echo ok > /out/two
  # The guard's mount point exists only while an exec runs.
  after:
    from: one
    run: if ls -A / | grep stowage-lock; then echo "the lock guard's mount point is left in the image" >&2; exit 1; fi
  out:
    from: scratch
    copy: [{from: after, src: /out/one, dest: /one}, {from: two, src: /out/two, dest: /two}]
`, nil)
	for round := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
		res, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:ROUND": fmt.Sprint(round)}})
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v (a deadlock ends at the %v timeout)\n%s", round, err, lockTimeout, res.logs)
		}
	}
}

// TestSwappedGlobalLocksAcrossProjects: two projects whose builds each mount
// the same two global locked volumes at swapped paths hung about one time in
// five. Ten rounds of the two builds at once, on fresh volumes each round.
func TestSwappedGlobalLocksAcrossProjects(t *testing.T) {
	s := needStack(t)
	id := nonce()
	spec := func(project, first, second string) *project {
		return newProject(t, s, `project: `+project+`-`+id+`
args: {ROUND: ""}
caches:
  a: {key: [swapped-global-a, "`+id+`", "${ROUND}"], scope: global, sharing: locked}
  b: {key: [swapped-global-b, "`+id+`", "${ROUND}"], scope: global, sharing: locked}
steps:
  use:
    from: [[.Busybox]]
    mounts: [{cache: `+first+`, path: /x}, {cache: `+second+`, path: /y}]
    run: sleep 0.2 && echo `+project+` >> /x/log && echo `+project+` >> /y/log
`, nil)
	}
	p1, p2 := spec("left", "a", "b"), spec("right", "b", "a")
	for round := range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
		var eg errgroup.Group
		for _, p := range []*project{p1, p2} {
			eg.Go(func() error {
				res, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:ROUND": fmt.Sprint(round)}})
				if err != nil {
					return fmt.Errorf("round %d: %w (a deadlock ends at the %v timeout)\n%s", round, err, lockTimeout, res.logs)
				}
				return nil
			})
		}
		err := eg.Wait()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}
