package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/spf13/cobra"
)

// builderChoice is where a command reaches buildkitd, and why there.
type builderChoice struct {
	addr string
	why  string
	// start is stowage's own buildkitd when it is the choice and does not
	// run yet: ensure starts it.
	start *localDaemon
	// opts dial the daemon another way than addr: dockerd's BuildKit.
	opts []client.ClientOpt
}

// connect makes a client of the chosen daemon.
func (ch *builderChoice) connect(ctx context.Context) (*client.Client, error) {
	if ch.opts != nil {
		return client.New(ctx, "", ch.opts...)
	}
	return client.New(ctx, ch.addr)
}

// dockerChoice is dockerd's own BuildKit at host, when dockerd is there.
func dockerChoice(host, why string) (builderChoice, string) {
	if ok, whyNot := dockerdBuildKit(context.Background(), host); !ok {
		return builderChoice{}, whyNot
	}
	return builderChoice{addr: "docker:" + host, why: "dockerd's own BuildKit, through " + why, opts: dockerClientOpts(host)}, ""
}

// ensure starts the chosen daemon when it is stowage's own and not yet up.
func (ch *builderChoice) ensure(ctx context.Context) error {
	if ch.start == nil {
		return nil
	}
	d := ch.start
	pid, started, err := d.start(ctx)
	if err != nil {
		return fmt.Errorf("starting stowage's own buildkitd: %w", err)
	}
	ch.start = nil
	if started {
		ch.why = fmt.Sprintf("stowage's own buildkitd, started now: pid %d, state in %s, log %s; `stowage builder stop` stops it", pid, d.root, d.logFile)
	}
	return nil
}

// chooseBuilder picks the buildkitd a command talks to, in this order:
// --addr; --builder NAME (a buildx builder); $BUILDKIT_HOST; the current
// buildx builder ($BUILDX_BUILDER, else buildx's own "current"); dockerd's
// own BuildKit through the current docker context, when dockerd is there;
// buildkitd's default socket; stowage's own buildkitd, started from PATH
// when it does not run. A flag beats the environment, as in docker and
// buildx. buildx's "default" builder is dockerd's BuildKit.
func chooseBuilder(addr, builder string) (builderChoice, error) {
	if addr != "" {
		return builderChoice{addr: addr, why: "--addr"}, nil
	}
	if builder == "default" {
		host, why := dockerEndpoint()
		ch, whyNot := dockerChoice(host, why+", buildx builder default from --builder")
		if whyNot == "" {
			return ch, nil
		}
		return builderChoice{}, fmt.Errorf("--builder default: it is dockerd's own BuildKit, and %s (%s)", whyNot, why)
	}
	if builder != "" {
		a, err := buildxAddr(builder)
		if errors.Is(err, errNoBuildxBuilder) {
			// buildx lists every docker context as a builder of the docker
			// driver, Docker Desktop's desktop-linux among them.
			if host := dockerContextHost(builder); host != "" {
				ch, whyNot := dockerChoice(host, "docker context "+builder+", from --builder")
				if whyNot == "" {
					return ch, nil
				}
				return builderChoice{}, fmt.Errorf("--builder %s: it is docker context %s's dockerd, and %s", builder, builder, whyNot)
			}
		}
		if err != nil {
			return builderChoice{}, fmt.Errorf("--builder %s: %w", builder, err)
		}
		return builderChoice{addr: a, why: "buildx builder " + builder + ", from --builder"}, nil
	}
	if h := os.Getenv("BUILDKIT_HOST"); h != "" {
		return builderChoice{addr: h, why: "$BUILDKIT_HOST"}, nil
	}
	var tried []string
	if name, why := currentBuildx(); name != "" && name != "default" {
		a, err := buildxAddr(name)
		if err == nil {
			return builderChoice{addr: a, why: "buildx builder " + name + ", " + why}, nil
		}
		tried = append(tried, fmt.Sprintf("the current buildx builder %s (%s): %v", name, why, err))
	}
	// Docker's own BuildKit: what docker buildx build uses with no builder
	// of its own (buildx's "default", the docker driver).
	host, why := dockerEndpoint()
	ch, whyNot := dockerChoice(host, why)
	if whyNot == "" {
		return ch, nil
	}
	tried = append(tried, whyNot+" ("+why+")")
	for _, sock := range defaultSocketPaths() {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return builderChoice{addr: "unix://" + sock, why: "buildkitd's default socket"}, nil
		}
		tried = append(tried, "no socket at "+sock)
	}
	d := newLocalDaemon()
	if pid := d.pid(); pid != 0 {
		// Through start all the same: the daemon another command is starting
		// may not answer yet, and start waits for it under the start lock.
		return builderChoice{addr: d.addr(), why: fmt.Sprintf("stowage's own buildkitd: pid %d, state in %s; `stowage builder stop` stops it", pid, d.root), start: d}, nil
	}
	if _, err := d.command(); err == nil {
		return builderChoice{addr: d.addr(), why: "stowage's own buildkitd, to be started from PATH", start: d}, nil
	} else {
		tried = append(tried, err.Error())
	}
	return builderChoice{}, fmt.Errorf("no buildkitd found (%s): pass --addr ADDRESS, set BUILDKIT_HOST, pass --builder NAME, put buildkitd on PATH for stowage to start, or make a buildx builder with `docker buildx create --driver docker-container --use`", strings.Join(tried, "; "))
}

// defaultSocketPaths lists defaultSockets; tests point it elsewhere.
var defaultSocketPaths = defaultSockets

// defaultSockets are where buildkitd listens by default: as root, and
// rootless under $XDG_RUNTIME_DIR.
func defaultSockets() []string {
	out := []string{"/run/buildkit/buildkitd.sock"}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && os.Geteuid() != 0 {
		out = append([]string{filepath.Join(d, "buildkit", "buildkitd.sock")}, out...)
	}
	return out
}

// buildxDir is buildx's store: $BUILDX_CONFIG, else $DOCKER_CONFIG/buildx,
// else ~/.docker/buildx.
func buildxDir() string {
	if d := os.Getenv("BUILDX_CONFIG"); d != "" {
		return d
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "buildx")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker", "buildx")
}

// currentBuildx is the buildx builder docker buildx build would use, and
// why; "" when buildx has none of its own (its default is dockerd's).
func currentBuildx() (name, why string) {
	if b := os.Getenv("BUILDX_BUILDER"); b != "" {
		return b, "from $BUILDX_BUILDER"
	}
	dt, err := os.ReadFile(filepath.Join(buildxDir(), "current"))
	if err != nil {
		return "", ""
	}
	var cur struct{ Name string }
	if json.Unmarshal(dt, &cur) != nil || cur.Name == "" {
		return "", ""
	}
	return cur.Name, "buildx's current builder"
}

// buildxAddr reads builder name from buildx's store and returns the address
// of its first node, through BuildKit's connection helpers where the driver
// runs buildkitd in a container.
func buildxAddr(name string) (string, error) {
	dt, err := os.ReadFile(filepath.Join(buildxDir(), "instances", name))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w in %s, and no docker context of that name (docker buildx ls lists them)", errNoBuildxBuilder, buildxDir())
	}
	if err != nil {
		return "", err
	}
	var ng struct {
		Driver string
		Nodes  []struct{ Name, Endpoint string }
	}
	if err := json.Unmarshal(dt, &ng); err != nil {
		return "", fmt.Errorf("reading buildx builder %s: %w", name, err)
	}
	if len(ng.Nodes) == 0 {
		return "", errors.New("it has no nodes")
	}
	n := ng.Nodes[0]
	switch ng.Driver {
	case "remote":
		return n.Endpoint, nil
	case "docker-container":
		return "docker-container://buildx_buildkit_" + n.Name, nil
	case "kubernetes":
		return "", fmt.Errorf("its nodes are pods of the kubernetes driver: pass --addr kube-pod://POD?namespace=NS (docker buildx inspect %s lists them)", name)
	}
	return "", fmt.Errorf("driver %q has no address this CLI can dial: pass --addr", ng.Driver)
}

// builderStatus is `stowage builder status`: which buildkitd commands would
// use, why, and whether it answers.
func builderStatus(ctx context.Context, addr, builder string, out io.Writer) error {
	ch, err := chooseBuilder(addr, builder)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "buildkitd: %s\nchosen by: %s\n", ch.addr, ch.why)
	if ch.start != nil && ch.start.pid() == 0 {
		args, _ := ch.start.command()
		fmt.Fprintf(out, "not running: stowage build or stowage cache starts it as %s\n", strings.Join(args, " "))
		return nil
	}
	cl, err := ch.connect(ctx)
	if err != nil {
		return fmt.Errorf("connecting to buildkitd at %s: %w", ch.addr, err)
	}
	defer cl.Close()
	info, err := cl.Info(ctx)
	if err != nil {
		return fmt.Errorf("buildkitd at %s does not answer: %w", ch.addr, err)
	}
	fmt.Fprintf(out, "BuildKit: %s %s\n", info.BuildkitVersion.Package, info.BuildkitVersion.Version)
	return nil
}

// errNoBuildxBuilder is a builder name buildx's store does not hold.
var errNoBuildxBuilder = errors.New("no such buildx builder")

// builderHelp says how every command that talks to buildkitd finds it.
const builderHelp = `The builder is --addr, else --builder NAME (a buildx builder; default is
dockerd's), else $BUILDKIT_HOST, else the current buildx builder, else
dockerd's own BuildKit (the current docker context, when it offers it), else
buildkitd's default socket, else stowage's own buildkitd, which it starts from PATH (state in
$XDG_DATA_HOME/stowage, socket in $XDG_RUNTIME_DIR/stowage) and stowage
builder stop stops. Addresses: unix://…, tcp://…,
docker-container://buildx_buildkit_NAME0, kube-pod://POD, ssh://….
stowage builder status says which and why.`

// newBuilderCmd is `stowage builder` and its commands.
func newBuilderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "builder COMMAND",
		Short:   "Which buildkitd commands use, and why",
		Long:    builderHelp,
		GroupID: groupBuilder,
		Args:    subcommandArgs,
		RunE:    helpOnly,
	}
	var addr, builder string
	status := &cobra.Command{
		Use:   "status [--addr ADDRESS] [--builder NAME]",
		Short: "Say which buildkitd stowage build and stowage cache would use, why, and whether it answers",
		Args:  maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return builderStatus(cmd.Context(), addr, builder, cmd.OutOrStdout())
		},
	}
	status.Flags().StringVar(&addr, "addr", "", "the buildkitd `ADDRESS`")
	status.Flags().StringVar(&builder, "builder", "", "a buildx builder `NAME`")
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the buildkitd stowage started itself; its volumes stay for the next start",
		Args:  maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := newLocalDaemon()
			pid, err := d.stop(cmd.Context())
			if err != nil {
				return err
			}
			if pid == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "stowage's own buildkitd does not run (state in %s)\n", d.root)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopped buildkitd (pid %d); its state stays in %s\n", pid, d.root)
			return nil
		},
	}
	cmd.AddCommand(status, stop)
	return cmd
}
