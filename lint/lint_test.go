package lint

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stowage-build/stowage/spec"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // "LINE:COL RULE"
	}{
		{
			name: "clean",
			yaml: `project: p
caches:
  apt: {key: apt, sharing: locked}
  go: {key: go}
steps:
  a:
    from: busybox
    mounts: [{cache: apt, path: /var/cache/apt}, {cache: go, path: /go}]
    run: true
`,
		},
		{
			name: "from near a step name",
			yaml: `project: p
steps:
  build: {from: busybox, run: "true"}
  image:
    from: biuld
    copy: [{from: buidl, src: /a, dest: /b}, {from: busybox, src: /bin/sh, dest: /sh}]
    mounts: [{type: bind, from: bulid, path: /x}]
  other: {from: "biuld:1"}
`,
			want: []string{"5:11 FromLooksLikeStep", "6:19 FromLooksLikeStep", "7:33 FromLooksLikeStep"},
		},
		{
			name: "locked mounted twice",
			yaml: `project: p
caches:
  l: {key: l, sharing: locked}
steps:
  a:
    from: busybox
    mounts:
      - {cache: l, path: /one}
      - {cache: l, path: /two}
    run: true
`,
			want: []string{"9:17 LockedVolumeMountedTwice"},
		},
		{
			name: "two names, one key, two sharing modes",
			yaml: `project: p
caches:
  a: {key: k, sharing: locked}
  b: {key: k}
steps:
  s:
    from: busybox
    mounts: [{cache: a, path: /a}, {cache: b, path: /b}]
    run: true
`,
			want: []string{"4:3 SharingConflict"},
		},
		{
			name: "apt lists not locked",
			yaml: `project: p
caches:
  lists: {key: lists}
steps:
  s:
    from: debian
    mounts: [{cache: lists, path: /var/lib/apt/lists}]
    run: apt-get update
`,
			want: []string{"7:22 PackageManagerNotLocked"},
		},
		{
			name: "copy into a cache mount, relative to workdir",
			yaml: `project: p
caches:
  deps: {key: deps}
steps:
  s:
    from: busybox
    workdir: /src
    copy: [{src: ., dest: node_modules/}]
    mounts: [{cache: deps, path: /src/node_modules}]
    run: npm ci
`,
			want: []string{"8:12 CopyIntoCacheMount"},
		},
		{
			name: "unused and one-step session volumes",
			yaml: `project: p
caches:
  unused: {key: u}
  scratch: {scope: session}
steps:
  s:
    from: busybox
    mounts: [{cache: scratch, path: /s}]
    run: true
`,
			want: []string{"3:3 UnusedVolume", "4:3 SessionVolumeOneStep"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := spec.Load([]byte(tc.yaml), spec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range Check(s) {
				got = append(got, strconv.Itoa(w.Range.Start.Line)+":"+strconv.Itoa(w.Range.Start.Col)+" "+w.Rule.Name)
				if w.Msg == "" || !strings.Contains(w.String("f.yaml"), "f.yaml:") {
					t.Errorf("warning without text: %+v", w)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
