package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fill writes header, then line(0), line(1), … while the spec stays under
// MaxSize, then footer.
func fill(header string, line func(i int) string, footer string) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; b.Len() < MaxSize-len(footer)-200; i++ {
		b.WriteString(line(i))
	}
	b.WriteString(footer)
	return []byte(b.String())
}

// maxLoadAlloc bounds what loading any spec of at most MaxSize allocates.
const maxLoadAlloc = 1 << 30

// TestLoadLarge loads specs just under MaxSize built to hit a quadratic (or
// worse) path. Each took from seconds to hours, or gigabytes, before its fix;
// now each takes a second or two at most on one core.
func TestLoadLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads several 1 MiB specs")
	}
	tests := []struct {
		name string
		data []byte
		// want is the first error, or "" when the spec is valid.
		want string
	}{
		{
			// Step lookups scanned the step list: 40,000 steps took 12 s.
			name: "step chain",
			data: fill("project: p\nsteps:\n  s0: {from: scratch}\n", func(i int) string { return fmt.Sprintf("  s%d: {from: s%d}\n", i+1, i) }, ""),
		},
		{
			// Each volume walked its whole chain: cubic time, quadratic memory.
			name: "cache chain",
			data: fill("project: p\ncaches:\n  c0: {}\n", func(i int) string { return fmt.Sprintf("  c%d: {from: c%d}\n", i+1, i) }, "steps:\n  s: {from: scratch}\n"),
			want: `stowage.yaml:35:3: caches.c32.key: the key of volume "c32" has 33 tokens with its parents', more than 32`,
		},
		{
			// Every child copies its parent's tokens: maxKeyTokens bounds them.
			name: "wide cache tree",
			data: fill("project: p\ncaches:\n  root: {key: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v, w, x, y, z, aa, bb, cc, dd, ee]}\n",
				func(i int) string { return fmt.Sprintf("  c%d: {from: root}\n", i) }, "steps:\n  s: {from: scratch}\n"),
		},
		{
			// A merge key charged one node for a mapping of 20,000 entries.
			name: "merging a big mapping",
			data: func() []byte {
				var b strings.Builder
				b.WriteString("project: p\nx-m: &m {")
				for i := range 20000 {
					fmt.Fprintf(&b, "k%d: v, ", i)
				}
				b.WriteString("}\nsteps:\n  s:\n    from: scratch\n    <<: [")
				for b.Len() < MaxSize-100 {
					b.WriteString("*m, ")
				}
				b.WriteString("*m]\n")
				return []byte(b.String())
			}(),
			want: "stowage.yaml:2:6: the document expands to more than 1048576 nodes through YAML aliases",
		},
		{
			// An alias to a 200 KB string cost one node, and a copy on each
			// interpolation: 100,000 aliases meant 20 GB.
			name: "aliases to a big string",
			data: fill("project: p\nx-s: &s \""+strings.Repeat("x", 200_000)+"$\"\nsteps:\n  s:\n    from: scratch\n    run:\n", func(int) string { return "      - *s\n" }, ""),
			want: "stowage.yaml:2:6: the document expands to more than 1048576 nodes through YAML aliases",
		},
		{
			// Every error compared its name with every step for a hint.
			name: "many bad froms",
			data: fill("project: p\nsteps:\n", func(i int) string { return fmt.Sprintf("  Step%05d: {from: Step%05d}\n", i, i+100000) }, ""),
			want: `stowage.yaml:3:21: steps.Step00000.from: "Step100000" is neither a step nor an image reference`,
		},
		{
			name: "many unknown fields",
			data: fill("project: p\nsteps:\n  s:\n    from: scratch\n", func(i int) string { return fmt.Sprintf("    fromm%d: x\n", i) }, ""),
			want: `stowage.yaml:5:5: steps.s.fromm0: unknown field "fromm0"`,
		},
		{
			// 14,000 cycles of 14,000 steps each: the messages elide.
			name: "long step cycles",
			data: func() []byte {
				const n = 14000
				var b strings.Builder
				b.WriteString("project: p\nsteps:\n")
				for i := range n {
					fmt.Fprintf(&b, "  s%d: {from: s%d, copy: [{from: s%d, src: a, dest: b}]}\n", i, (i+1)%n, n-1)
				}
				return []byte(b.String())
			}(),
			want: "stowage.yaml:14002:18: steps.s13999.from: steps form a cycle: s13999 -> s0 -> s1 -> s2 -> s3 -> s4 -> … -> s13995 -> s13996 -> s13997 -> s13998 -> s13999;",
		},
		{
			// Forty args that each double the last: 953 bytes that expanded
			// to a terabyte, and the OOM killer at 24 GB.
			name: "doubling args",
			data: func() []byte {
				var b strings.Builder
				b.WriteString("project: p\nargs:\n  A0: xxxxxxxxxxxxxxxx\n")
				for i := 1; i <= 40; i++ {
					fmt.Fprintf(&b, "  A%d: \"${A%d}${A%d}\"\n", i, i-1, i-1)
				}
				b.WriteString("steps:\n  s:\n    from: scratch\n    run: echo ${A40}\n")
				return []byte(b.String())
			}(),
			want: `stowage.yaml:16:9: args.A13: ${A12} makes the value longer than 65536 bytes`,
		},
		{
			// Each reference to a 60 KB arg is within the per-value limit;
			// 100,000 of them are not.
			name: "many references to a big arg",
			data: fill("project: p\nargs:\n  BIG: "+strings.Repeat("x", 60_000)+"\nsteps:\n  s:\n    from: scratch\n    run:\n",
				func(int) string { return "      - ${BIG}\n" }, ""),
			want: `stowage.yaml:147:9: steps.s.run[139]: ${BIG}: expanding the spec's ${NAME} references makes it larger than 8388608 bytes`,
		},
		{
			name: "many copies",
			data: fill("project: p\nsteps:\n  t:\n    from: scratch\n    copy:\n", func(i int) string { return fmt.Sprintf("      - {from: s%d, src: a, dest: b}\n", i) }, ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.data) > MaxSize {
				t.Fatalf("the spec is %d bytes, over MaxSize", len(tt.data))
			}
			start := time.Now()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(tt.data, Options{PlatformArgs: testPlatformArgs()})
			runtime.ReadMemStats(&after)
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("Load took %v", d)
			}
			// What one load allocates, in all: a spec that expands without
			// bound shows here long before it reaches the OOM killer.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxLoadAlloc {
				t.Errorf("Load allocated %d MiB, more than %d MiB", alloc>>20, maxLoadAlloc>>20)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %.300v", err)
			case tt.want == "":
				return
			case err == nil:
				t.Fatalf("Load succeeded, want %s", tt.want)
			}
			checkErrorList(t, err)
			list := err.(ErrorList)
			if !strings.HasPrefix(list[0].Error(), tt.want) {
				t.Errorf("first error:\n%.300s\nwant it to start with\n%s", list[0], tt.want)
			}
			// No more than maxErrors, and one line saying how many more.
			if len(list) > maxErrors+1 {
				t.Errorf("%d errors, more than %d", len(list), maxErrors+1)
			}
		})
	}
}

// TestTooManyErrors checks the last line of a capped list.
func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("project: p\nsteps:\n  s:\n    from: scratch\n")
	for i := range maxErrors + 5 {
		fmt.Fprintf(&b, "    bogus%d: x\n", i)
	}
	_, err := Load([]byte(b.String()), Options{PlatformArgs: testPlatformArgs()})
	list, ok := err.(ErrorList)
	if !ok || len(list) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d: %v", len(list), maxErrors+1, err)
	}
	equal(t, "last", list[maxErrors].Error(), "stowage.yaml:104:5: 5 more errors not shown; fix these first")
}
