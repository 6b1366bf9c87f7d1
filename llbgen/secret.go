package llbgen

import (
	"github.com/moby/buildkit/client/llb"
	"github.com/stowage-build/stowage/spec"
)

// secretMount lowers a secret mount as Dockerfile's RUN
// --mount=type=secret does (dockerfile2llb's dispatchSecret): a file at
// path, a variable named env, or both. BuildKit hands the secret to the
// command at run time from the client's session: it is never part of the
// op's definition, its cache key, a layer or the image's history.
func secretMount(m *spec.Mount) llb.RunOption {
	var target *string
	if m.Path != "" {
		target = &m.Path
	}
	opts := []llb.SecretOption{}
	if !m.Required {
		opts = append(opts, llb.SecretOptional)
	}
	if m.Env != "" {
		opts = append(opts, llb.SecretAsEnvName(m.Env))
	}
	if m.UID != nil || m.GID != nil || m.Mode != nil {
		uid, gid, mode := ownerOf(m, 0o400)
		opts = append(opts, llb.SecretFileOpt(uid, gid, mode))
	}
	return llb.AddSecretWithDest(m.ID, target, opts...)
}

// sshMount lowers an SSH agent socket as Dockerfile's RUN --mount=type=ssh
// does (dockerfile2llb's dispatchSSH); BuildKit sets SSH_AUTH_SOCK to the
// step's first socket.
func sshMount(m *spec.Mount) llb.RunOption {
	opts := []llb.SSHOption{llb.SSHID(m.ID)}
	if m.Path != "" {
		opts = append(opts, llb.SSHSocketTarget(m.Path))
	}
	if !m.Required {
		opts = append(opts, llb.SSHOptional)
	}
	if m.UID != nil || m.GID != nil || m.Mode != nil {
		uid, gid, mode := ownerOf(m, 0o600)
		opts = append(opts, llb.SSHSocketOpt(m.Path, uid, gid, mode))
	}
	return llb.AddSSHSocket(opts...)
}

// ownerOf is a mount's uid, gid and mode, root and def where unset.
func ownerOf(m *spec.Mount, def int) (uid, gid, mode int) {
	mode = def
	if m.UID != nil {
		uid = int(*m.UID)
	}
	if m.GID != nil {
		gid = int(*m.GID)
	}
	if m.Mode != nil {
		mode = int(*m.Mode)
	}
	return uid, gid, mode
}
