package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/suggest"
	"github.com/spf13/cobra"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
	"golang.org/x/sync/errgroup"
)

// cacheLong is `stowage cache --help`'s text after the commands.
const cacheLong = `See, remove and move a spec's cache volumes on buildkitd, by the spec's names.

Export and import take these targets:
  export NAME… --to type=local,dest=DIR|type=tar,dest=FILE|type=registry,ref=REPO[,registry.insecure=true]
  import NAME… --from type=local,src=DIR|type=tar,src=FILE|type=registry,ref=REPO [--force]
and prune takes NAME…|--all-of-spec|--unused-for DURATION|--max-size SIZE|--policy
(the spec's max-age, max-size).

A registry export is one image per volume, REPO:<cache ID>, and for a volume
with restore: keys also REPO:<restore ID>.restore; an import of a key with no
export falls back on those. Inside a build, without this CLI:
  --opt cache-import=type=registry,ref=REPO  seed a build's fresh volumes from REPO
  --opt cache-mode=readonly                  mount throwaway copies, write no volume
  --opt cache-reset=NAME[,NAME…]             empty these volumes, then build
(buildx: --build-arg STOWAGE_CACHE_IMPORT=…, STOWAGE_CACHE_MODE=…, STOWAGE_CACHE_RESET=…)

` + builderHelp

// newCacheCmd is `stowage cache` and its commands.
func newCacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "cache COMMAND",
		Short:   "See, remove and move a spec's cache volumes on buildkitd",
		Long:    cacheLong,
		GroupID: groupCache,
		Args:    subcommandArgs,
		RunE:    helpOnly,
	}
	for _, sc := range []struct {
		use, short string
		names      bool
		f          func(context.Context, *cacheFlags, io.Writer) error
	}{
		{"ls [OPTIONS]", "List the cache volume records on the builder, by the spec's names (--all: every cache mount)", false, cacheList},
		{"du [OPTIONS]", "Total the space the spec's volumes take on the builder, per volume and project", false, cacheDiskUsage},
		{"prune [OPTIONS] [NAME...]", "Remove the records of the volumes named, and nothing else", true, cachePrune},
		{"export [OPTIONS] NAME...", "Copy volumes out of the builder, by key (--to type=local|tar|registry)", true, cacheExport},
		{"import [OPTIONS] NAME...", "Seed fresh volumes on the builder (--from type=local|tar|registry; --force: replace what they hold)", true, cacheImport},
	} {
		cf := &cacheFlags{common: &common{}}
		sub := &cobra.Command{
			Use:   sc.use,
			Short: sc.short,
			Args:  maxArgs(0),
			RunE: func(cmd *cobra.Command, args []string) error {
				cf.stderr = cmd.ErrOrStderr()
				cf.names = args
				return sc.f(cmd.Context(), cf, cmd.OutOrStdout())
			},
		}
		if sc.names {
			sub.Args = cobra.ArbitraryArgs
			sub.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				names := specNames(cf.common, volumeNames)
				return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(args, n) }), cobra.ShellCompDirectiveNoFileComp
			}
		}
		cf.sub = sub.Name()
		cf.fs = sub.Flags()
		cf.common.register("cache")
		cf.register()
		completeSpecFlags(sub, cf.common)
		cmd.AddCommand(sub)
	}
	return cmd
}

// subcommandArgs refuses an unknown subcommand as a usage error.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageError{msg}
}

// helpOnly is the RunE of a command that only groups others: its help, on
// stderr, and a usage error.
func helpOnly(cmd *cobra.Command, _ []string) error {
	cmd.SetOut(cmd.ErrOrStderr())
	_ = cmd.Usage()
	return usageError{"a command is needed"}
}

// cacheFlags are the flags of stowage cache's commands, besides the spec's.
type cacheFlags struct {
	*common
	sub       string
	addr      string
	builder   string
	all       bool
	format    string
	allOfSpec bool
	policy    bool
	maxSize   sizeFlag
	unusedFor time.Duration
	to, from  string
	force     bool
	names     []string
}

func (cf *cacheFlags) register() {
	fs := cf.fs
	fs.StringVar(&cf.addr, "addr", "", "the buildkitd `ADDRESS` (default: --builder, $BUILDKIT_HOST, the current buildx builder, dockerd's BuildKit, "+defaultAddr+", else a buildkitd stowage starts; stowage builder status says which)")
	fs.StringVar(&cf.builder, "builder", "", "use this buildx builder `NAME` (docker buildx ls)")
	switch cf.sub {
	case "ls", "du":
		fs.BoolVar(&cf.all, "all", false, "also list cache mounts that are not this spec's: other specs' Stowage volumes by ID, and other cache mounts")
		fs.StringVar(&cf.format, "format", "table", "`table` or json")
	case "prune":
		fs.BoolVar(&cf.allOfSpec, "all-of-spec", false, "remove every volume the spec declares")
		fs.DurationVar(&cf.unusedFor, "unused-for", 0, "only records unused for at least this `DURATION`, like 48h")
		fs.Var(&cf.maxSize, "max-size", "only volumes larger than this `SIZE`, like 2g")
		fs.BoolVar(&cf.policy, "policy", false, "enforce the spec's retention: records of a volume unused for longer than its max-age, and volumes larger than their max-size")
	case "export":
		fs.StringVar(&cf.to, "to", "", "where the volumes go: `type=local,dest=DIR` or type=tar,dest=FILE (a directory NAME per volume)")
	case "import":
		fs.StringVar(&cf.from, "from", "", "what the volumes are seeded from: `type=local,src=DIR` or type=tar,src=FILE, as export writes it")
		fs.BoolVar(&cf.force, "force", false, "replace a volume that already holds data (default: leave it as it is)")
	}
}

// volumeRecord is what the builder holds for one cache ID.
type volumeRecord struct {
	// Name is the spec's volume name; empty for an ID the spec does not
	// declare.
	Name      string   `json:"name,omitempty"`
	ID        string   `json:"id"`
	Kind      string   `json:"kind"` // volume, setup-lock, restore-point, lock-guard, other-stowage, cache-mount
	Scope     string   `json:"scope,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Tokens    []string `json:"tokens,omitempty"`
	Size      int64    `json:"size"`
	Records   []record `json:"records"`
}

type record struct {
	ID         string     `json:"id"`
	Size       int64      `json:"size"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	InUse      bool       `json:"inUse"`
}

// cacheIDOf reads the cache ID from a cache mount record's description,
// "cached mount DEST from exec … with id "ID"", where BuildKit keeps it;
// without "with id" the ID is the mount's path.
var cacheIDOf = regexp.MustCompile(`(?s)^cached mount (\S+) from .* with id "([^"]*)"$|^cached mount (\S+) from `)

func recordCacheID(desc string) string {
	m := cacheIDOf.FindStringSubmatch(desc)
	switch {
	case m == nil:
		return ""
	case m[2] != "":
		return m[2]
	}
	return m[3]
}

// inventory joins the builder's cache mount records with the spec's
// volumes: every volume of the spec (records or not), and with all the
// builder's other cache mounts.
func (cf *cacheFlags) inventory(ctx context.Context, cl *client.Client, all bool) (*spec.Spec, []*volumeRecord, error) {
	s, _, err := cf.load()
	if err != nil {
		return nil, nil, err
	}
	vo, err := cf.volumeOptions()
	if err != nil {
		return nil, nil, err
	}
	vols, err := llbgen.Volumes(ctx, s, vo)
	if err != nil {
		return nil, nil, err
	}
	usage, err := cl.DiskUsage(ctx, client.WithFilter([]string{"type==" + string(client.UsageRecordTypeCacheMount)}))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list the cache mounts of buildkitd at %s: pass --addr or set BUILDKIT_HOST: %w", cf.addr, err)
	}
	byID := map[string]*volumeRecord{}
	var out []*volumeRecord
	for _, v := range vols {
		if v.ID == "" || byID[v.ID] != nil {
			continue // a session volume, or a second name for one key
		}
		vr := &volumeRecord{Name: v.Name, ID: v.ID, Kind: "volume", Scope: string(v.Scope), Namespace: v.Namespace, Tokens: v.Tokens, Records: []record{}}
		byID[v.ID] = vr
		out = append(out, vr)
	}
	for _, u := range usage {
		id := recordCacheID(u.Description)
		vr := byID[id]
		if vr == nil {
			if !all {
				// A volume's setup lock holds nothing; it is listed with
				// --all and pruned with its volume.
				continue
			}
			vr = &volumeRecord{ID: id, Kind: kindOf(id), Records: []record{}}
			byID[id] = vr
			out = append(out, vr)
		}
		vr.Size += u.Size
		vr.Records = append(vr.Records, record{ID: u.ID, Size: u.Size, CreatedAt: u.CreatedAt, LastUsedAt: u.LastUsedAt, InUse: u.InUse})
	}
	for _, vr := range out {
		slices.SortFunc(vr.Records, func(a, b record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	}
	return s, out, nil
}

// kindOf says what a cache ID the spec does not declare is.
func kindOf(id string) string {
	switch {
	case id == llbgen.LockGuardID:
		return "lock-guard"
	case strings.HasPrefix(id, "stowage-") && strings.HasSuffix(id, ".setup-lock"):
		return "setup-lock"
	case strings.HasPrefix(id, "stowage-") && strings.HasSuffix(id, ".restore"):
		return "restore-point"
	case strings.HasPrefix(id, "stowage-"):
		return "other-stowage"
	}
	return "cache-mount"
}

// connect dials the chosen buildkitd (chooseBuilder) and checks it answers.
func (cf *cacheFlags) connect(ctx context.Context) (*client.Client, error) {
	chosen, err := chooseBuilder(cf.addr, cf.builder)
	if err != nil {
		return nil, err
	}
	if err := chosen.ensure(ctx); err != nil {
		return nil, err
	}
	cf.addr = chosen.addr
	cl, err := chosen.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to buildkitd at %s: %w", cf.addr, err)
	}
	if _, err := cl.Info(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("cannot reach buildkitd at %s (%s): pass --addr, --builder or set BUILDKIT_HOST (`stowage builder status` says what it finds): %w", cf.addr, chosen.why, err)
	}
	return cl, nil
}

// warnGC says, on stderr, which volumes the builder's garbage collection
// may evict before their max-age: a GC rule for cache mounts with a keep
// duration shorter than it (BuildKit's default since v0.31: 48h once cache
// mounts take 512 MB).
func (cf *cacheFlags) warnGC(ctx context.Context, s *spec.Spec) {
	cl, err := cf.connect(ctx)
	if err != nil {
		return
	}
	defer cl.Close()
	workers, err := cl.ListWorkers(ctx)
	if err != nil {
		return
	}
volumes:
	for _, c := range s.Volumes {
		if c.MaxAge == 0 {
			continue
		}
		for _, w := range workers {
			for _, p := range w.GCPolicy {
				cacheMounts := len(p.Filter) == 0 || slices.ContainsFunc(p.Filter, func(f string) bool { return strings.Contains(f, string(client.UsageRecordTypeCacheMount)) })
				if !cacheMounts || p.KeepDuration <= 0 || p.KeepDuration >= c.MaxAge {
					continue
				}
				limit := ""
				if p.MaxUsedSpace > 0 {
					limit = " once they take more than " + units.HumanSize(float64(p.MaxUsedSpace))
				}
				fmt.Fprintf(cf.stderr, "warning: volume %s keeps records for max-age %s, but the builder's GC evicts cache mounts unused for %s%s; raise the builder's keepDuration for exec.cachemount, or export the volume (stowage cache export)\n",
					c.Name, c.MaxAge, p.KeepDuration, limit)
				continue volumes // one warning a volume
			}
		}
	}
}

// listing is ls's and du's start: the format checked, then the inventory.
func (cf *cacheFlags) listing(ctx context.Context) (*spec.Spec, []*volumeRecord, error) {
	if cf.format != "table" && cf.format != "json" {
		return nil, nil, usageError{fmt.Sprintf("--format %q: write table or json", cf.format)}
	}
	cl, err := cf.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	return cf.inventory(ctx, cl, cf.all)
}

func cacheList(ctx context.Context, cf *cacheFlags, out io.Writer) error {
	s, vrs, err := cf.listing(ctx)
	if err != nil {
		return err
	}
	cf.warnGC(ctx, s)
	if cf.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(vrs)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "VOLUME\tID\tSCOPE\tRECORDS\tSIZE\tLAST USED\tIN USE")
	for _, vr := range vrs {
		name := vr.Name
		if name == "" {
			name = "(" + vr.Kind + ")"
		}
		last, inUse := "never", false
		var newest time.Time
		for _, r := range vr.Records {
			inUse = inUse || r.InUse
			if r.LastUsedAt != nil && r.LastUsedAt.After(newest) {
				newest = *r.LastUsedAt
			}
		}
		if !newest.IsZero() {
			last = units.HumanDuration(time.Since(newest)) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%t\n", name, vr.ID, vr.Scope, len(vr.Records), units.HumanSize(float64(vr.Size)), last, inUse)
	}
	return tw.Flush()
}

func cacheDiskUsage(ctx context.Context, cf *cacheFlags, out io.Writer) error {
	s, vrs, err := cf.listing(ctx)
	if err != nil {
		return err
	}
	// Totals per owner: the spec's project (its project-scoped volumes),
	// global volumes, and with --all each other kind.
	totals := map[string]int64{}
	var order []string
	for _, vr := range vrs {
		group := vr.Kind
		if vr.Name != "" {
			group = string(vr.Scope) + " " + vr.Namespace
			if vr.Scope == string(spec.ScopeProject) {
				group = "project " + vr.Namespace
			}
		}
		if _, ok := totals[group]; !ok {
			order = append(order, group)
		}
		totals[group] += vr.Size
	}
	if cf.format == "json" {
		type total struct {
			Group string `json:"group"`
			Size  int64  `json:"size"`
		}
		res := struct {
			Project string          `json:"project"`
			Volumes []*volumeRecord `json:"volumes"`
			Totals  []total         `json:"totals"`
		}{Project: s.Project, Volumes: vrs}
		for _, g := range order {
			res.Totals = append(res.Totals, total{g, totals[g]})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "VOLUME\tID\tSIZE")
	var sum int64
	for _, vr := range vrs {
		name := vr.Name
		if name == "" {
			name = "(" + vr.Kind + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, vr.ID, units.HumanSize(float64(vr.Size)))
		sum += vr.Size
	}
	fmt.Fprintln(tw, "\t\t")
	for _, g := range order {
		fmt.Fprintf(tw, "total, %s\t\t%s\n", g, units.HumanSize(float64(totals[g])))
	}
	fmt.Fprintf(tw, "total\t\t%s\n", units.HumanSize(float64(sum)))
	return tw.Flush()
}

func cachePrune(ctx context.Context, cf *cacheFlags, out io.Writer) error {
	if len(cf.names) == 0 && !cf.allOfSpec && !cf.policy && cf.maxSize == 0 {
		return usageError{"name the volumes to remove, or pass --all-of-spec, --policy or --max-size"}
	}
	if len(cf.names) > 0 && cf.allOfSpec {
		return usageError{"name volumes or pass --all-of-spec, not both"}
	}
	cl, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	s, vrs, err := cf.inventory(ctx, cl, true)
	if err != nil {
		return err
	}
	// The volumes asked for, refused unless the spec declares them: a
	// prune that removed nothing would read as success.
	want := map[string]bool{}
	for _, name := range cf.names {
		if s.Volume(name) == nil {
			return fmt.Errorf("%s has no cache volume %q%s; its volumes are %s", s.File, name, suggestName(name, s), cacheNames(s))
		}
		want[name] = true
	}
	var ids []string // record IDs to remove
	var pruned []*volumeRecord
	byID := map[string]*volumeRecord{}
	for _, vr := range vrs {
		byID[vr.ID] = vr
	}
	for _, vr := range vrs {
		named := cf.allOfSpec || want[vr.Name] || ((cf.policy || cf.maxSize > 0) && len(cf.names) == 0)
		if vr.Name == "" || !named || (cf.maxSize > 0 && vr.Size <= int64(cf.maxSize)) {
			continue
		}
		c := s.Volume(vr.Name)
		if cf.policy && c.MaxAge == 0 && c.MaxSize == 0 {
			continue // no retention declared: nothing to enforce
		}
		pruned = append(pruned, vr)
		oversize := cf.policy && c.MaxSize > 0 && vr.Size > c.MaxSize
		for _, r := range append(vr.Records, lockRecords(byID, vr.ID)...) {
			unused := unusedSince(r)
			if cf.unusedFor > 0 && unused < cf.unusedFor {
				continue
			}
			if cf.policy && !oversize && (c.MaxAge == 0 || unused < c.MaxAge) {
				continue
			}
			ids = append(ids, r.ID)
		}
	}
	if cf.allOfSpec {
		// And the restore points of the spec's restore keys, which only
		// its volumes record themselves in.
		vo, err := cf.volumeOptions()
		if err != nil {
			return err
		}
		vols, err := llbgen.Volumes(ctx, s, vo)
		if err != nil {
			return err
		}
		for _, v := range vols {
			for _, rid := range v.Restore {
				if rp := byID[llbgen.RestorePointID(rid)]; rp != nil {
					for _, r := range rp.Records {
						if cf.unusedFor == 0 || unusedSince(r) >= cf.unusedFor {
							ids = append(ids, r.ID)
						}
					}
				}
			}
		}
	}
	var freed int64
	removed := map[string]bool{}
	if len(ids) > 0 {
		filters := make([]string, len(ids))
		for i, id := range ids {
			filters[i] = "id==" + id
		}
		ch := make(chan client.UsageInfo)
		var eg errgroup.Group
		eg.Go(func() error {
			for u := range ch {
				freed += u.Size
				removed[u.ID] = true
			}
			return nil
		})
		err := cl.Prune(ctx, ch, client.PruneAll, client.WithFilter(filters))
		close(ch)
		_ = eg.Wait()
		if err != nil {
			return fmt.Errorf("pruning on buildkitd at %s: %w", cf.addr, err)
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "VOLUME\tID\tREMOVED\tKEPT")
	for _, vr := range pruned {
		var gone, kept int
		for _, r := range vr.Records {
			if removed[r.ID] {
				gone++
			} else {
				kept++
			}
		}
		note := ""
		if kept > 0 {
			note = " (in use, or within --unused-for or the spec's retention)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d%s\n", vr.Name, vr.ID, gone, kept, note)
	}
	fmt.Fprintf(tw, "freed %s\n", units.HumanSize(float64(freed)))
	return tw.Flush()
}

// unusedSince is how long record r has gone unused.
func unusedSince(r record) time.Duration {
	if r.LastUsedAt != nil {
		return time.Since(*r.LastUsedAt)
	}
	return time.Since(r.CreatedAt)
}

// lockRecords are the records of a volume's setup lock.
func lockRecords(byID map[string]*volumeRecord, id string) []record {
	if l := byID[id+".setup-lock"]; l != nil {
		return l.Records
	}
	return nil
}

func cacheNames(s *spec.Spec) string { return strings.Join(volumeNames(s), ", ") }

// suggestName is a did-you-mean for a volume name.
func suggestName(name string, s *spec.Spec) string {
	if best, ok := suggest.Search(name, volumeNames(s), true); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// sizeFlag is a size like 2g, as docker's --max-used-space takes it.
type sizeFlag int64

func (f *sizeFlag) String() string { return units.BytesSize(float64(*f)) }

func (f *sizeFlag) Set(s string) error {
	n, err := units.RAMInBytes(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a size like 512m or 2g", s)
	}
	*f = sizeFlag(n)
	return nil
}
