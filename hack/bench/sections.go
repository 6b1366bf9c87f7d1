package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// lowering is section 1: BenchmarkLower, both frontends, in rounds.
func (b *bench) lowering() error {
	logf("1/6 lowering: %d rounds of BenchmarkLower (-benchtime %s)", b.rounds, b.benchtime)
	test := filepath.Join(b.work, "llbgen.test")
	if err := b.runLogged(exec.Command("go", "test", "-c", "-o", test, "./llbgen"), "lower-build.log"); err != nil {
		return err
	}
	// by steps, frontend and unit: one value a round.
	got := map[string]series{}
	var all strings.Builder
	for r := 1; r <= b.rounds; r++ {
		cmd := exec.Command(test, "-test.run", "^$", "-test.bench", "^BenchmarkLower(Platforms)?$", "-test.benchmem", "-test.benchtime", b.benchtime, "-test.count", "1")
		cmd.Dir = filepath.Join(b.root, "llbgen")
		out, err := cmd.CombinedOutput()
		all.Write(out)
		if err != nil {
			return fmt.Errorf("BenchmarkLower: %w\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkLower/") && !strings.HasPrefix(f[0], "BenchmarkLowerPlatforms/") {
				continue
			}
			p := strings.Split(f[0], "/")
			// "steps=N", or "platforms=4" for 100 steps on four platforms.
			steps := strings.TrimPrefix(p[1], "steps=")
			if v, ok := strings.CutPrefix(p[1], "platforms="); ok {
				steps = "p" + v
			}
			fe := regexp.MustCompile(`-\d+$`).ReplaceAllString(strings.TrimPrefix(p[2], "frontend="), "")
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					continue
				}
				k := steps + " " + fe + " " + f[i+1]
				got[k] = append(got[k], v)
			}
		}
	}
	lower := filepath.Join(b.res, "lower.txt")
	if err := os.WriteFile(lower, []byte(all.String()), 0o644); err != nil {
		return err
	}
	// benchstat's own statistics of the same rounds, when it is installed.
	if bs, err := exec.LookPath("benchstat"); err == nil {
		out, _ := exec.Command(bs, "-col", "/frontend", lower).CombinedOutput()
		os.WriteFile(filepath.Join(b.res, "benchstat.txt"), out, 0o644)
	}
	for _, n := range []string{"10", "100", "1000", "p4"} {
		steps := n + " steps"
		switch n {
		case "1000":
			steps = "1,000 steps"
		case "p4":
			// The YAML is read once and loaded per platform; Dockerfile2LLB
			// parses per platform, as its frontend calls it.
			steps = "100 steps × 4 platforms"
		}
		for _, m := range []struct {
			unit, what string
			k          kind
		}{{"ns/op", "time", nanoseconds}, {"B/op", "memory allocated", size}, {"allocs/op", "allocations", count}} {
			sf, df := got[n+" stowage "+m.unit], got[n+" dockerfile "+m.unit]
			if len(sf) == 0 || len(df) == 0 {
				return fmt.Errorf("BenchmarkLower printed no %s for %s", m.unit, steps)
			}
			b.t.row(fmt.Sprintf("lowering, %s: %s", steps, m.what), cell(m.k, sf), cell(m.k, df), cell(ratio, ratios(sf, df)), strconv.Itoa(b.rounds))
		}
	}
	perStep := func(fe string) string {
		var parts []string
		for _, n := range []string{"10", "100", "1000"} {
			parts = append(parts, human(nanoseconds, got[n+" "+fe+" ns/step"].median()))
		}
		return strings.Join(parts, " → ")
	}
	growth := func(fe string) string {
		return fmt.Sprintf("%.0f", got["1000 "+fe+" ns/op"].median()/got["10 "+fe+" ns/op"].median())
	}
	b.t.row("lowering: time per step at 10 → 100 → 1,000 steps (flat is linear)", perStep("stowage"), perStep("dockerfile"),
		fmt.Sprintf("1,000 steps cost %s× 10 steps (Dockerfile: %s×; linear: 100×)", growth("stowage"), growth("dockerfile")), strconv.Itoa(b.rounds))
	return nil
}

// withSyntax writes src to dst with `# syntax=ref` as its first line.
func withSyntax(ref, src, dst string) error {
	dt, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, append([]byte("# syntax="+ref+"\n"), dt...), 0o644)
}

// allCached reports whether no RUN vertex of the build whose plain log is at
// path executed.
func allCached(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	run := map[string]bool{}
	vertex := regexp.MustCompile(`^#\d+$`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 2 || !vertex.MatchString(fl[0]) {
			continue
		}
		if strings.HasPrefix(fl[1], "[") && strings.Contains(sc.Text(), " RUN ") {
			run[fl[0]] = true
		}
		if fl[1] == "DONE" && run[fl[0]] {
			return false
		}
	}
	return true
}

var files = map[string]string{"stowage": "stowage.yaml", "dockerfile": "Dockerfile"}

// specs writes the generated pipelines of section 2 and 3 once.
func (b *bench) specs() (string, error) {
	dir := filepath.Join(b.work, "specs")
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	test := filepath.Join(b.work, "llbgen.test")
	if _, err := os.Stat(test); err != nil {
		if err := b.runLogged(exec.Command("go", "test", "-c", "-o", test, "./llbgen"), "specs-build.log"); err != nil {
			return "", err
		}
	}
	cmd := exec.Command(test, "-test.run", "^TestWriteBenchSpecs$", "-benchspecs", dir, "-benchsteps", "10,1000", "-benchimage", b.env["STOWAGE_BUSYBOX_IMAGE"])
	cmd.Dir = filepath.Join(b.root, "llbgen")
	if err := b.runLogged(cmd, "specs.log"); err != nil {
		return "", err
	}
	for _, n := range []string{"10", "1000"} {
		d := filepath.Join(dir, n)
		for _, f := range []struct{ image, file string }{
			{b.sfImage, "stowage.yaml"}, {b.sfImage, "stowage-fail.yaml"}, {b.dfImage, "Dockerfile"}, {b.dfImage, "Dockerfile.fail"},
		} {
			p := filepath.Join(d, f.file)
			if err := withSyntax(f.image, p, p+".tmp"); err != nil {
				return "", err
			}
			if err := os.Rename(p+".tmp", p); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// timedCached times a buildx build of file in ctx, logged to name, which
// must run no step: the pipeline is cached, so only the frontend's work and
// BuildKit's are measured.
func (b *bench) timedCached(name, file, ctx string) (float64, error) {
	d, err := b.timed(name, b.bx("-f", file, "--output", "type=cacheonly", ctx))
	if err == nil && !allCached(filepath.Join(b.res, name)) {
		err = fmt.Errorf("the build of %s ran a step: the pipeline was not cached (log: %s)", file, name)
	}
	return d, err
}

// endToEnd is section 2: cached rebuilds and first builds after a pull.
func (b *bench) endToEnd() error {
	logf("2/6 end to end: writing the pipelines")
	dir, err := b.specs()
	if err != nil {
		return err
	}
	ctx := filepath.Join(dir, "10")
	logf("2/6 end to end: a first build of the 10-step pipeline with each frontend (fills the cache)")
	for _, fe := range []string{"stowage", "dockerfile"} {
		if err := b.runLogged(b.bx("-f", filepath.Join(ctx, files[fe]), "--output", "type=cacheonly", ctx), "e2e-first-"+fe+".log"); err != nil {
			return err
		}
	}
	logf("2/6 end to end: %d fully cached rebuilds with each frontend, alternating", b.rebuilds)
	cached := map[string]series{}
	for i := 1; i <= b.rebuilds; i++ {
		for _, fe := range order(i, "stowage", "dockerfile") {
			d, err := b.timedCached(fmt.Sprintf("e2e-cached-%s-%d.log", fe, i), filepath.Join(ctx, files[fe]), ctx)
			if err != nil {
				return err
			}
			cached[fe] = append(cached[fe], d)
		}
	}
	b.t.row("fully cached rebuild, 10 steps, `docker buildx build`", cell(seconds, cached["stowage"]), cell(seconds, cached["dockerfile"]),
		cell(ratio, ratios(cached["stowage"], cached["dockerfile"])), strconv.Itoa(b.rebuilds))

	logf("2/6 end to end: %d first builds with a never-pulled frontend image, alternating", b.pulls)
	pull := filepath.Join(b.work, "pull")
	if err := os.MkdirAll(pull, 0o755); err != nil {
		return err
	}
	pulled := map[string]series{}
	for i := 1; i <= b.pulls; i++ {
		for _, fe := range []string{"stowage", "dockerfile"} {
			ref := fmt.Sprintf("%s/stowage-bench:%s-pull-%d", b.reg.addr, fe, i)
			bin, labels := b.sfBin, b.sfLabels
			if fe == "dockerfile" {
				bin, labels = b.dfBin, b.dfLabels
			}
			if err := b.reg.pushFrontend(ref, bin, labels, fmt.Sprintf("%s-%d", b.runID, i)); err != nil {
				return err
			}
			// The cached pipeline, with only the syntax line changed.
			dt, err := os.ReadFile(filepath.Join(ctx, files[fe]))
			if err != nil {
				return err
			}
			_, body, _ := strings.Cut(string(dt), "\n")
			if err := os.WriteFile(filepath.Join(pull, fmt.Sprintf("%s-%d-%s", fe, i, files[fe])), []byte("# syntax="+ref+"\n"+body), 0o644); err != nil {
				return err
			}
		}
		for _, fe := range order(i, "stowage", "dockerfile") {
			d, err := b.timedCached(fmt.Sprintf("e2e-pull-%s-%d.log", fe, i), filepath.Join(pull, fmt.Sprintf("%s-%d-%s", fe, i, files[fe])), ctx)
			if err != nil {
				return err
			}
			pulled[fe] = append(pulled[fe], d)
		}
	}
	b.t.row("first build after the frontend image is pulled (same cached pipeline)", cell(seconds, pulled["stowage"]), cell(seconds, pulled["dockerfile"]),
		cell(ratio, ratios(pulled["stowage"], pulled["dockerfile"])), strconv.Itoa(b.pulls))
	return nil
}

// sizes is section 3: image and binary sizes, and peak RSS in a build.
func (b *bench) sizes() error {
	logf("3/6 sizes, and the frontend's peak RSS on the 1,000-step pipeline (%d builds each)", b.rssRuns)
	si, err := b.reg.imageBytes(b.sfImage)
	if err != nil {
		return err
	}
	di, err := b.reg.imageBytes(b.dfImage)
	if err != nil {
		return err
	}
	b.t.row("frontend image, compressed (registry)", human(size, float64(si)), human(size, float64(di)), human(ratio, float64(si)/float64(di)), "1")
	sb, err := os.Stat(b.sfBin)
	if err != nil {
		return err
	}
	db, err := os.Stat(b.dfBin)
	if err != nil {
		return err
	}
	b.t.row("frontend binary", human(size, float64(sb.Size())), human(size, float64(db.Size())), human(ratio, float64(sb.Size())/float64(db.Size())), "1")

	dir, err := b.specs()
	if err != nil {
		return err
	}
	// The 1,000-step pipelines whose first command fails: the frontend
	// parses, lowers, marshals and sends the whole graph, then the build
	// stops at once.
	big := filepath.Join(dir, "1000")
	fail := map[string]string{"stowage": "stowage-fail.yaml", "dockerfile": "Dockerfile.fail"}
	comm := map[string]string{"stowage": "stowage-frontend", "dockerfile": "dockerfile-frontend"}
	rss := map[string]series{}
	for i := 1; i <= b.rssRuns; i++ {
		for _, fe := range order(i, "stowage", "dockerfile") {
			name := fmt.Sprintf("rss-%s-%d.log", fe, i)
			nonce := fmt.Sprintf("bench-%s-%s-%d", b.runID, fe, i)
			stop := make(chan struct{})
			peak := make(chan int64, 1)
			go func() { peak <- peakRSS(comm[fe], nonce, stop) }()
			err := b.runLogged(b.bx("-f", filepath.Join(big, fail[fe]), "--build-arg", "STOWAGE_BENCH_ID="+nonce, "--output", "type=cacheonly", big), name)
			close(stop)
			kb := <-peak
			if err == nil {
				return fmt.Errorf("the 1,000-step build with %s should have failed at its first command (log: %s)", fe, name)
			}
			if !strings.Contains(tail(filepath.Join(b.res, name), 200), "did not complete successfully: exit code: 1") {
				return fmt.Errorf("the 1,000-step build with %s failed, but not at its first command (log: %s)", fe, name)
			}
			if kb <= 0 {
				return fmt.Errorf("did not find the %s process of build %s", comm[fe], nonce)
			}
			rss[fe] = append(rss[fe], float64(kb))
		}
	}
	b.t.row("frontend process peak RSS, 1,000-step pipeline, in a build", cell(kilobytes, rss["stowage"]), cell(kilobytes, rss["dockerfile"]),
		cell(ratio, ratios(rss["stowage"], rss["dockerfile"])), strconv.Itoa(b.rssRuns))
	return nil
}

// peakRSS polls for the process named comm whose environment holds nonce
// (a build arg: BuildKit passes the frontend its options as environment
// variables) and returns its highest VmHWM, in kB, when it exits or stop
// closes. VmHWM only grows, so the last reading before exit is the
// process's peak but for its last 20 ms.
func peakRSS(comm, nonce string, stop <-chan struct{}) int64 {
	if len(comm) > 15 {
		comm = comm[:15]
	}
	pid := ""
	var best int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return best
		case <-tick.C:
		}
		if pid == "" {
			procs, _ := filepath.Glob("/proc/[0-9]*/comm")
			for _, f := range procs {
				c, err := os.ReadFile(f)
				if err != nil || strings.TrimSpace(string(c)) != comm {
					continue
				}
				env, err := os.ReadFile(filepath.Join(filepath.Dir(f), "environ"))
				if err == nil && strings.Contains(string(env), nonce) {
					pid = filepath.Base(filepath.Dir(f))
					break
				}
			}
			if pid == "" {
				continue
			}
		}
		st, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			return best // gone
		}
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				if kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64); err == nil && kb > best {
					best = kb
				}
			}
		}
	}
}

// sent sums the bytes a plain progress log says local source name sent
// ("#9 transferring context: 42B done").
func sent(path, name string) float64 {
	dt, _ := os.ReadFile(path)
	var total float64
	re := regexp.MustCompile(`(?m)^#\d+ transferring ` + regexp.QuoteMeta(name) + `: ([0-9.]+)([kMG]?)B(?: [0-9.]+s)? done`)
	for _, m := range re.FindAllStringSubmatch(string(dt), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		total += v * map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m[2]]
	}
	return math.Round(total)
}
