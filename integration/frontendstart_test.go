package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	dockerfile "github.com/moby/buildkit/frontend/dockerfile/builder"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stowage-build/stowage/frontend"
	"github.com/tonistiigi/fsutil"
)

// timingClient adds up the time a frontend spends waiting on the gateway,
// by call; the rest of its time is its own (parsing, lowering, marshalling).
type timingClient struct {
	gateway.Client
	mu    sync.Mutex
	spent map[string]time.Duration
}

func (c *timingClient) add(what string, start time.Time) {
	c.mu.Lock()
	c.spent[what] += time.Since(start)
	c.mu.Unlock()
}

func (c *timingClient) Solve(ctx context.Context, req gateway.SolveRequest) (*gateway.Result, error) {
	defer c.add("solve", time.Now())
	res, err := c.Client.Solve(ctx, req)
	if res != nil {
		if res.Ref != nil {
			res.Ref = &timingRef{Reference: res.Ref, c: c}
		}
		for k, r := range res.Refs {
			res.Refs[k] = &timingRef{Reference: r, c: c}
		}
	}
	return res, err
}

func (c *timingClient) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	defer c.add("resolve", time.Now())
	return c.Client.ResolveImageConfig(ctx, ref, opt)
}

func (c *timingClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	defer c.add("resolve", time.Now())
	return c.Client.ResolveSourceMetadata(ctx, op, opt)
}

func (c *timingClient) Inputs(ctx context.Context) (map[string]llb.State, error) {
	defer c.add("inputs", time.Now())
	return c.Client.Inputs(ctx)
}

func (c *timingClient) Warn(ctx context.Context, dgst digest.Digest, msg string, opts gateway.WarnOpts) error {
	defer c.add("warn", time.Now())
	return c.Client.Warn(ctx, dgst, msg, opts)
}

type timingRef struct {
	gateway.Reference
	c *timingClient
}

func (r *timingRef) ReadFile(ctx context.Context, req gateway.ReadRequest) ([]byte, error) {
	defer r.c.add("readfile", time.Now())
	return r.Reference.ReadFile(ctx, req)
}

// unwrap gives the gateway back its own references.
func unwrap(res *gateway.Result) {
	if res == nil {
		return
	}
	if r, ok := res.Ref.(*timingRef); ok {
		res.Ref = r.Reference
	}
	for k, r := range res.Refs {
		if t, ok := r.(*timingRef); ok {
			res.Refs[k] = t.Reference
		}
	}
}

// BenchmarkFrontendStart runs a fully cached one-step build in process,
// with Stowage's frontend and with BuildKit's Dockerfile frontend on the
// same pipeline, and splits each frontend's time into waiting on the
// gateway (the spec's read, image resolution, the solve) and its own:
//
//	go test -run '^$' -bench FrontendStart -benchtime 20x ./integration
func BenchmarkFrontendStart(b *testing.B) {
	s := needStack(b)
	files := map[string]string{
		"stowage.yaml": "project: start\nsteps:\n  s:\n    from: " + s.busybox + "\n    run: echo hi\n",
		"Dockerfile":   "FROM " + s.busybox + "\nRUN echo hi\n",
	}
	dir := b.TempDir()
	writeFiles(b, dir, files)
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c, err := client.New(ctx, s.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, fe := range []struct {
		name, file string
		build      gateway.BuildFunc
	}{
		{"stowage", "stowage.yaml", frontend.Build},
		{"dockerfile", "Dockerfile", dockerfile.Build},
	} {
		b.Run(fe.name, func(b *testing.B) {
			var total, own time.Duration
			spent := map[string]time.Duration{}
			one := func() {
				_, err := c.Build(ctx, client.SolveOpt{
					LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
					FrontendAttrs: map[string]string{"filename": fe.file},
				}, "", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
					tc := &timingClient{Client: gc, spent: map[string]time.Duration{}}
					start := time.Now()
					res, err := fe.build(ctx, tc)
					d := time.Since(start)
					unwrap(res)
					total += d
					waited := time.Duration(0)
					for k, v := range tc.spent {
						spent[k] += v
						waited += v
					}
					own += d - waited
					return res, err
				}, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			one() // fills the cache
			total, own, spent = 0, 0, map[string]time.Duration{}
			b.ResetTimer()
			for range b.N {
				one()
			}
			n := float64(b.N)
			b.ReportMetric(float64(total.Microseconds())/n/1000, "frontend-ms/op")
			b.ReportMetric(float64(own.Microseconds())/n/1000, "own-ms/op")
			for _, k := range []string{"readfile", "resolve", "solve", "inputs", "warn"} {
				b.ReportMetric(float64(spent[k].Microseconds())/n/1000, k+"-ms/op")
			}
		})
	}
}
