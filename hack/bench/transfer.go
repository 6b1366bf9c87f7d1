package main

import (
	"archive/tar"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// transfer is section 5: export and import of 1 GiB against
// buildkit-cache-dance's builds and host tar.
func (b *bench) transfer() error {
	mb := b.transferMB
	logf("5/6 moving volumes: making two %d MiB data sets (16 KiB files, 4 big files)", mb)
	tw := filepath.Join(b.work, "transfer")
	small, big := filepath.Join(tw, "data", "small", "small"), filepath.Join(tw, "data", "big", "big")
	for _, d := range []string{small, big, filepath.Join(tw, "out", "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	buf := make([]byte, 16<<10)
	for i := range mb * 64 {
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(small, fmt.Sprintf("f%05d", i)), buf, 0o644); err != nil {
			return err
		}
	}
	for i := 1; i <= 4; i++ {
		f, err := os.Create(filepath.Join(big, fmt.Sprintf("f%d", i)))
		if err != nil {
			return err
		}
		_, err = io.CopyN(f, rand.Reader, int64(mb/4)<<20)
		f.Close()
		if err != nil {
			return err
		}
	}
	vol := "bench-" + b.runID
	spec := fmt.Sprintf(`project: stowage-bench-transfer
caches:
  small: {key: [small, "%[1]s"]}
  big: {key: [big, "%[1]s"]}
  dance-small: {key: [dance-small, "%[1]s"]}
  dance-big: {key: [dance-big, "%[1]s"]}
steps:
  s:
    from: %[2]s
    mounts: [{cache: small, path: /s}, {cache: big, path: /b}, {cache: dance-small, path: /ds}, {cache: dance-big, path: /db}]
    run: "true"
`, vol, b.env["STOWAGE_BUSYBOX_IMAGE"])
	specFile := filepath.Join(tw, "stowage.yaml")
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		return err
	}
	stowage := func(args ...string) *exec.Cmd {
		return exec.Command(b.cli, append(append([]string{"cache"}, args...), "-f", specFile, "--addr", b.env["BUILDKIT_HOST"])...)
	}
	b.onExit(func() {
		if err := stowage("prune", "--all-of-spec").Run(); err != nil {
			warnf("could not prune the transfer volumes")
		}
	})
	ids, err := exec.Command(b.cli, "ids", "-f", specFile).Output()
	if err != nil {
		return err
	}
	idOf := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(ids)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			idOf[f[0]] = f[1]
		}
	}
	// cache-dance's two Dockerfiles (reproducible-containers/
	// buildkit-cache-dance v3: COPY the directory in and cp -p -R it into
	// the cache mount; cp -p -R it out of the cache mount into the image),
	// by the volume's Stowage ID.
	busybox := b.env["STOWAGE_BUSYBOX_IMAGE"]
	inject := func(shape string) *exec.Cmd {
		f := filepath.Join(tw, "Dancefile.inject")
		os.WriteFile(f, fmt.Appendf(nil, "FROM %s\nCOPY %s /var/dance-cache\nRUN --mount=type=cache,target=/c,id=%s cp -p -R /var/dance-cache/. /c || true\n", busybox, shape, idOf["dance-"+shape]), 0o644)
		return b.bx("-f", f, "--output", "type=cacheonly", filepath.Join(tw, "data", shape))
	}
	extract := func(shape string) *exec.Cmd {
		f := filepath.Join(tw, "Dancefile.extract")
		os.WriteFile(f, fmt.Appendf(nil, "FROM %s\nARG N\nRUN --mount=type=cache,target=/c,id=%s echo $N && mkdir -p /var/dance-cache && cp -p -R /c/. /var/dance-cache || true\n", busybox, idOf["dance-"+shape]), 0o644)
		os.Remove(filepath.Join(tw, "out", "dance.tar"))
		return b.bx("-f", f, "--build-arg", "N="+b.runID, "--output", "type=tar,dest="+filepath.Join(tw, "out", "dance.tar"), filepath.Join(tw, "out", "empty"))
	}
	sh := func(script string) *exec.Cmd { return exec.Command("sh", "-c", script) }
	for _, shape := range []string{"small", "big"} {
		logf("5/6 moving volumes: %s: plain tar on the host, stowage cache import/export, cache-dance inject/extract", shape)
		data, archive, out := filepath.Join(tw, "data", shape), filepath.Join(tw, shape+".tar"), filepath.Join(tw, "out")
		if err := b.runLogged(sh(fmt.Sprintf("cd '%s' && tar -cf '%s' '%s'", data, archive, shape)), "tr-"+shape+"-tar-prep.log"); err != nil {
			return err
		}
		t := map[string]float64{}
		steps := []struct {
			name string
			cmd  *exec.Cmd
		}{
			{"tar-x", sh(fmt.Sprintf("rm -rf '%[1]s/x' && mkdir -p '%[1]s/x' && tar -C '%[1]s/x' -xf '%[2]s'", out, archive))},
			{"tar-c", sh(fmt.Sprintf("cd '%s' && tar -cf '%s/c.tar' '%s'", data, out, shape))},
			{"import", stowage("import", shape, "--from", "type=tar,src="+archive)},
			{"export", stowage("export", shape, "--to", "type=tar,dest="+filepath.Join(out, "export.tar"))},
			{"dance-inject", inject(shape)},
			{"dance-extract", extract(shape)},
		}
		for _, s := range steps {
			if s.name == "dance-inject" {
				// The round trip kept every file.
				if a, c := tarFiles(filepath.Join(out, "export.tar")), tarFiles(archive); a != c || a == 0 {
					return fmt.Errorf("the %s export holds %d files, the import %d", shape, a, c)
				}
				os.Remove(filepath.Join(out, "export.tar"))
				os.RemoveAll(filepath.Join(out, "x"))
				os.Remove(filepath.Join(out, "c.tar"))
				os.Remove(archive)
			}
			// extract's Dancefile is written when the command is made; make
			// it again now, after inject wrote its own.
			if s.name == "dance-extract" {
				s.cmd = extract(shape)
			}
			d, err := b.timed("tr-"+shape+"-"+s.name+".log", s.cmd)
			if err != nil {
				return err
			}
			t[s.name] = d
		}
		os.Remove(filepath.Join(out, "dance.tar"))
		os.RemoveAll(data)
		what := "16 KiB files"
		if shape == "big" {
			what = "4 big files"
		}
		for _, op := range []string{"import", "export"} {
			peer, tarOp, verb, flag := "dance-inject", "tar-x", "inject", "-x"
			if op == "export" {
				peer, tarOp, verb, flag = "dance-extract", "tar-c", "extract", "-c"
			}
			b.t.row(fmt.Sprintf("stowage cache %s, type=tar, %d MiB of %s ÷ buildkit-cache-dance's %s builds", op, mb, what, verb),
				fmt.Sprintf("%s (%.1f MiB/s)", human(seconds, t[op]), float64(mb)/t[op]), "cache-dance: "+human(seconds, t[peer]), human(ratio, t[op]/t[peer]), "1")
			b.t.row(fmt.Sprintf("stowage cache %s, same bytes ÷ plain tar %s on the host (the limit)", op, flag),
				human(seconds, t[op]), "tar: "+human(seconds, t[tarOp]), human(ratio, t[op]/t[tarOp]), "1")
		}
	}
	return nil
}

// tarFiles counts the regular files of a tar.
func tarFiles(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return n
		}
		if h.Typeflag == tar.TypeReg {
			n++
		}
	}
}

// contextBytes is section 6: what a build sends of a large context.
func (b *bench) contextBytes() error {
	logf("6/6 context bytes: a step that reads one small file of a context that also holds 4 MiB, main and named")
	cx := filepath.Join(b.work, "ctxbytes")
	if err := os.MkdirAll(filepath.Join(cx, "assets"), 0o755); err != nil {
		return err
	}
	big := make([]byte, 4<<20)
	rand.Read(big)
	busybox := b.env["STOWAGE_BUSYBOX_IMAGE"]
	for name, body := range map[string]string{
		"small.txt": "small\n", "assets/a.txt": "a\n", "big.bin": string(big), "assets/big.bin": string(big),
		"stowage.yaml": fmt.Sprintf("# syntax=%s\nproject: stowage-bench-ctx\nsteps:\n  s:\n    from: %s\n    copy: [{src: small.txt, dest: /small.txt}, {from: \"context:assets\", src: a.txt, dest: /a.txt}]\n", b.sfImage, busybox),
		"Dockerfile":   fmt.Sprintf("# syntax=%s\nFROM %s\nCOPY small.txt /small.txt\nCOPY --from=assets a.txt /a.txt\n", b.dfImage, busybox),
	} {
		if err := os.WriteFile(filepath.Join(cx, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	got := map[string]float64{}
	for _, fe := range []string{"stowage", "dockerfile"} {
		// A copy of its own for each side: BuildKit sends a directory it has
		// seen before differently (only what changed).
		dir := fmt.Sprintf("%s-%s-%s", cx, fe, b.runID)
		if err := exec.Command("cp", "-a", cx, dir).Run(); err != nil {
			return err
		}
		name := "ctx-" + fe + ".log"
		err := b.runLogged(b.bx("-f", filepath.Join(dir, files[fe]), "--build-context", "assets="+filepath.Join(dir, "assets"), "--output", "type=cacheonly", dir), name)
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		got[fe+" main"] = sent(filepath.Join(b.res, name), "context")
		got[fe+" named"] = sent(filepath.Join(b.res, name), "assets")
	}
	for _, which := range []string{"main", "named"} {
		s, d := got["stowage "+which], got["dockerfile "+which]
		b.t.row(fmt.Sprintf("bytes a build sends of the %s context, next to a 4 MiB file no step reads", which),
			human(count, s)+" B", human(count, d)+" B", human(ratio, s/d), "1")
	}
	return nil
}
