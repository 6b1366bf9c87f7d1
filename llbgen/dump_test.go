package llbgen

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// dump renders a marshalled definition as text for golden files: one block
// per op, inputs by index instead of digest, so the goldens survive BuildKit
// upgrades that change op encoding but not meaning.
func dump(t *testing.T, def *llb.Definition) string {
	t.Helper()
	index := map[digest.Digest]int{}
	var b strings.Builder
	for i, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		dgst := digest.FromBytes(dt)
		index[dgst] = i
		inputs := make([]string, len(op.Inputs))
		for j, in := range op.Inputs {
			inputs[j] = fmt.Sprintf("%d:%d", index[digest.Digest(in.Digest)], in.Index)
		}
		name := def.Metadata[dgst].Description["llb.customname"]
		fmt.Fprintf(&b, "op %d %s inputs=[%s]", i, opKind(&op), strings.Join(inputs, " "))
		if name != "" {
			fmt.Fprintf(&b, " name=%q", name)
		}
		if p := op.Platform; p != nil {
			fmt.Fprintf(&b, " platform=%s/%s%s", p.OS, p.Architecture, prefixed("/", p.Variant))
		}
		b.WriteString("\n")
		switch o := op.Op.(type) {
		case *pb.Op_Source:
			fmt.Fprintf(&b, "  source %s\n", o.Source.Identifier)
			for _, k := range sortedKeys(o.Source.Attrs) {
				fmt.Fprintf(&b, "  attr %s=%s\n", k, o.Source.Attrs[k])
			}
		case *pb.Op_Exec:
			dumpExec(&b, o.Exec)
		case *pb.Op_File:
			for _, a := range o.File.Actions {
				fmt.Fprintf(&b, "  action input=%d secondary=%d output=%d %s\n", a.Input, a.SecondaryInput, a.Output, fileAction(a))
			}
		case *pb.Op_Merge:
			for _, in := range o.Merge.Inputs {
				fmt.Fprintf(&b, "  merge input=%d\n", in.Input)
			}
		}
		if pg := def.Metadata[dgst].ProgressGroup; pg != nil {
			fmt.Fprintf(&b, "  progress-group %s %q weak=%v\n", pg.Id, pg.Name, pg.Weak)
		}
	}
	return b.String()
}

func dumpExec(b *strings.Builder, e *pb.ExecOp) {
	m := e.Meta
	fmt.Fprintf(b, "  args %q\n", m.Args)
	fmt.Fprintf(b, "  env %q\n", m.Env)
	fmt.Fprintf(b, "  cwd %s user %q network %s security %s\n", m.Cwd, m.User, e.Network, e.Security)
	for _, s := range e.Secretenv {
		fmt.Fprintf(b, "  secretenv %s secret=%s optional=%v\n", s.Name, s.ID, s.Optional)
	}
	for _, mnt := range e.Mounts {
		fmt.Fprintf(b, "  mount %s type=%s input=%d output=%d", mnt.Dest, mnt.MountType, mnt.Input, mnt.Output)
		if mnt.Selector != "" {
			fmt.Fprintf(b, " selector=%s", mnt.Selector)
		}
		if mnt.Readonly {
			b.WriteString(" readonly")
		}
		if c := mnt.CacheOpt; c != nil {
			fmt.Fprintf(b, " cache-id=%s sharing=%s", c.ID, c.Sharing)
		}
		if s := mnt.SecretOpt; s != nil {
			fmt.Fprintf(b, " secret=%s optional=%v", s.ID, s.Optional)
			if s.Uid != 0 || s.Gid != 0 || s.Mode != 0o400 {
				fmt.Fprintf(b, " uid=%d gid=%d mode=%o", s.Uid, s.Gid, s.Mode)
			}
		}
		if s := mnt.SSHOpt; s != nil {
			fmt.Fprintf(b, " ssh=%s optional=%v", s.ID, s.Optional)
			if s.Uid != 0 || s.Gid != 0 || s.Mode != 0o600 {
				fmt.Fprintf(b, " uid=%d gid=%d mode=%o", s.Uid, s.Gid, s.Mode)
			}
		}
		if t := mnt.TmpfsOpt; t != nil && t.Size > 0 {
			fmt.Fprintf(b, " size=%d", t.Size)
		}
		b.WriteString("\n")
	}
}

func fileAction(a *pb.FileAction) string {
	switch x := a.Action.(type) {
	case *pb.FileAction_Copy:
		c := x.Copy
		out := fmt.Sprintf("copy %s -> %s contents-only=%v wildcard=%v create-dest=%v follow-symlinks=%v", c.Src, c.Dest, c.DirCopyContents, c.AllowWildcard, c.CreateDestPath, c.FollowSymlink)
		if c.AllowEmptyWildcard {
			out += " empty-wildcard=true"
		}
		if c.AttemptUnpackDockerCompatibility {
			out += " unpack=true"
		}
		if o := c.Owner; o != nil {
			out += " owner=" + userOpt(o.User) + ":" + userOpt(o.Group)
		}
		if c.ModeStr != "" {
			out += " mode=" + c.ModeStr
		} else if c.Mode >= 0 {
			out += fmt.Sprintf(" mode=%o", c.Mode)
		}
		if len(c.IncludePatterns) > 0 {
			out += fmt.Sprintf(" include=%q", c.IncludePatterns)
		}
		if len(c.ExcludePatterns) > 0 {
			out += fmt.Sprintf(" exclude=%q", c.ExcludePatterns)
		}
		if len(c.RequiredPaths) > 0 {
			out += fmt.Sprintf(" required=%q", c.RequiredPaths)
		}
		return out
	case *pb.FileAction_Mkdir:
		return fmt.Sprintf("mkdir %s mode=%o parents=%v", x.Mkdir.Path, x.Mkdir.Mode, x.Mkdir.MakeParents)
	case *pb.FileAction_Mkfile:
		return fmt.Sprintf("mkfile %s mode=%o data=%q", x.Mkfile.Path, x.Mkfile.Mode, x.Mkfile.Data)
	case *pb.FileAction_Rm:
		return fmt.Sprintf("rm %s", x.Rm.Path)
	}
	return "unknown"
}

func userOpt(u *pb.UserOpt) string {
	switch x := u.GetUser().(type) {
	case *pb.UserOpt_ByName:
		return x.ByName.Name
	case *pb.UserOpt_ByID:
		return fmt.Sprint(x.ByID)
	}
	return ""
}

func opKind(op *pb.Op) string {
	switch op.Op.(type) {
	case *pb.Op_Source:
		return "source"
	case *pb.Op_Exec:
		return "exec"
	case *pb.Op_File:
		return "file"
	case *pb.Op_Merge:
		return "merge"
	case nil:
		return "result"
	}
	return "other"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
