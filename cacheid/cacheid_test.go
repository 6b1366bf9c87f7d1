package cacheid

import (
	"strings"
	"testing"
)

// The expected IDs were computed by an independent implementation (Python's
// hashlib over hand-written netstrings), not by this package. If one of these
// fails, the v1 contract is broken: every user's caches would go cold.
func TestGoldenVectors(t *testing.T) {
	tests := []struct {
		name    string
		in      Input
		encoded string
		want    string
	}{
		{
			name:    "design document example",
			in:      Input{Scope: ScopeProject, Namespace: "hello", Tokens: []string{"go-build", "1.26"}},
			encoded: "16:stowage.cache.v1,0:,7:project,5:hello,8:go-build,4:1.26,",
			want:    "stowage-fef1ad7b98cca55607ed3f7fd660f196",
		},
		{
			name:    "global scope has no namespace",
			in:      Input{Scope: ScopeGlobal, Tokens: []string{"go-mod"}},
			encoded: "16:stowage.cache.v1,0:,6:global,0:,6:go-mod,",
			want:    "stowage-c565173ef30cec2e5eb82be83bcf94ac",
		},
		{
			name:    "tenant separates the global scope",
			in:      Input{Tenant: "acme", Scope: ScopeGlobal, Tokens: []string{"go-mod"}},
			encoded: "16:stowage.cache.v1,4:acme,6:global,0:,6:go-mod,",
			want:    "stowage-07b5e3e75db697d39c8f92cdf712aa95",
		},
		{
			name:    "colon inside one token",
			in:      Input{Scope: ScopeProject, Namespace: "hello", Tokens: []string{"a:b"}},
			encoded: "16:stowage.cache.v1,0:,7:project,5:hello,3:a:b,",
			want:    "stowage-789c71ac9b9efaf1f9c921d5ab2ed57b",
		},
		{
			name:    "two tokens",
			in:      Input{Scope: ScopeProject, Namespace: "hello", Tokens: []string{"a", "b"}},
			encoded: "16:stowage.cache.v1,0:,7:project,5:hello,1:a,1:b,",
			want:    "stowage-bd549583da63aed13d77283330681efa",
		},
		{
			name:    "comma inside one token",
			in:      Input{Scope: ScopeProject, Namespace: "hello", Tokens: []string{"a,b"}},
			encoded: "16:stowage.cache.v1,0:,7:project,5:hello,3:a,b,",
			want:    "stowage-09e0cedea45a2b2a609ac68fb5ffc9c9",
		},
		{
			name:    "trailing comma in a token",
			in:      Input{Scope: ScopeProject, Namespace: "hello", Tokens: []string{"a", "b,"}},
			encoded: "16:stowage.cache.v1,0:,7:project,5:hello,1:a,2:b,,",
			want:    "stowage-4f096507034d30c384a185f0c10b0156",
		},
		{
			name:    "non-ASCII tokens count bytes, not runes",
			in:      Input{Scope: ScopeProject, Namespace: "hello", Tokens: []string{"Grüße", "日本語"}},
			encoded: "16:stowage.cache.v1,0:,7:project,5:hello,7:Grüße,9:日本語,",
			want:    "stowage-64d9b28418bd36444e41ef867cdddeeb",
		},
		{
			name:    "session scope",
			in:      Input{Scope: ScopeSession, Namespace: "sess-123", Tokens: []string{"scratch"}},
			encoded: "16:stowage.cache.v1,0:,7:session,8:sess-123,7:scratch,",
			want:    "stowage-c75d5eb34ecb0f0f20a8944a248ee3b2",
		},
		{
			name:    "tenant, team namespace, content token",
			in:      Input{Tenant: "acme", Scope: ScopeProject, Namespace: "team-web", Tokens: []string{"npm", "sha256:abc"}},
			encoded: "16:stowage.cache.v1,4:acme,7:project,8:team-web,3:npm,10:sha256:abc,",
			want:    "stowage-72599116b1307ee9e0932141710fc7bd",
		},
	}
	seen := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Encode(tc.in)); got != tc.encoded {
				t.Errorf("Encode = %q, want %q", got, tc.encoded)
			}
			got, err := ID(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ID = %s, want %s", got, tc.want)
			}
			if other, ok := seen[got]; ok {
				t.Errorf("ID %s collides with case %q", got, other)
			}
			seen[got] = tc.name
		})
	}
}

func TestInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"empty token", Input{Scope: ScopeProject, Namespace: "p", Tokens: []string{"a", ""}}, "token 2 is empty"},
		{"no tokens", Input{Scope: ScopeProject, Namespace: "p"}, "at least one token"},
		{"unknown scope", Input{Scope: "team", Namespace: "p", Tokens: []string{"a"}}, `unknown cache scope "team"`},
		{"project without namespace", Input{Scope: ScopeProject, Tokens: []string{"a"}}, "needs a namespace"},
		{"session without namespace", Input{Scope: ScopeSession, Tokens: []string{"a"}}, "needs a namespace"},
		{"global with namespace", Input{Scope: ScopeGlobal, Namespace: "p", Tokens: []string{"a"}}, "takes no namespace"},
		{"invalid UTF-8", Input{Scope: ScopeGlobal, Tokens: []string{"\xff"}}, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ID(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ID() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// FuzzInjective checks that two different inputs never encode to the same
// bytes, which is what keeps different keys from sharing a cache.
func FuzzInjective(f *testing.F) {
	f.Add("", "hello", "a:b", "", "hello", "a", "b")
	f.Add("acme", "", "x", "", "acme", "x", "")
	f.Fuzz(func(t *testing.T, t1, n1, k1, t2, n2, k2a, k2b string) {
		a := Input{Tenant: t1, Scope: ScopeProject, Namespace: n1, Tokens: []string{k1}}
		b := Input{Tenant: t2, Scope: ScopeProject, Namespace: n2, Tokens: []string{k2a, k2b}}
		if string(Encode(a)) == string(Encode(b)) {
			t.Fatalf("%#v and %#v encode alike", a, b)
		}
	})
}

func TestValid(t *testing.T) {
	id, err := ID(Input{Scope: ScopeProject, Namespace: "p", Tokens: []string{"k"}})
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{id: true, id + "0": false, id[:len(id)-1]: false, "stowage-" + strings.Repeat("g", 32): false, "../../etc": false, "": false, strings.ToUpper(id): false} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}
