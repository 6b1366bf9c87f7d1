package spec

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/signal"
	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec/syntax"
)

// Healthcheck is a step image's HEALTHCHECK.
type Healthcheck struct {
	// None disables a healthcheck inherited from the base image
	// (HEALTHCHECK NONE).
	None bool
	// Test is the command: ["CMD-SHELL", command] for a string, ["CMD",
	// args…] for a list, as Dockerfile's shell and exec forms.
	Test []string
	// Zero means the image's runtime default, as in Dockerfile.
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
	Range                                         Range
}

// healthcheck decodes `none` or {test, interval, timeout, start-period,
// start-interval, retries}, checked as Dockerfile's HEALTHCHECK flags are.
func (d *decoder) healthcheck(n *yaml.Node, p string) *Healthcheck {
	n = d.resolve(n)
	h := &Healthcheck{Range: rangeOf(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		if s := d.str(n, p, "none"); s != "none" {
			d.add(rangeOf(n), p, "write `none` to disable the base image's healthcheck, or {test: COMMAND, interval: 30s, …}", "%q is not a healthcheck", s)
		}
		h.None = true
		return h
	}
	hasTest := false
	duration := func(f syntax.Field[syntax.Duration], dst *time.Duration) {
		v, p := at(f, p)
		if v == nil {
			return
		}
		s, ok := d.strOK(v, p, "a duration like 30s")
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		switch {
		case err != nil:
			d.add(rangeOf(v), p, "write a duration like 30s, 1m30s or 500ms", "%q is not a duration", s)
		case dur < 0:
			d.add(rangeOf(v), p, "write a duration like 30s, or 0 for the runtime's default", "%s is negative", s)
		case dur > 0 && dur < time.Millisecond:
			d.add(rangeOf(v), p, "write 1ms or more, or 0 for the runtime's default", "%s is shorter than 1ms", s)
		default:
			*dst = dur
		}
	}
	var g syntax.HealthcheckCheck
	d.read(n, p, "a healthcheck like {test: COMMAND, interval: 30s}", &g)
	if v, p := at(g.Test, p); v != nil {
		hasTest = true
		v = d.resolve(v)
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			cmd := d.str(v, p, "a command")
			if strings.TrimSpace(cmd) == "" {
				d.add(rangeOf(v), p, "write a command like `curl -f http://localhost/`", "the healthcheck command is empty")
			}
			h.Test = []string{"CMD-SHELL", cmd}
		} else {
			args := d.strs(v, p, "an argument", false)
			if len(args) == 0 && v.Kind == yaml.SequenceNode {
				d.add(rangeOf(v), p, "write a command like [curl, -f, http://localhost/]", "the healthcheck command is empty")
			}
			h.Test = append([]string{"CMD"}, args...)
		}
	}
	duration(g.Interval, &h.Interval)
	duration(g.Timeout, &h.Timeout)
	duration(g.StartPeriod, &h.StartPeriod)
	duration(g.StartInterval, &h.StartInterval)
	if v, p := at(g.Retries, p); v != nil {
		if s, ok := d.strOK(v, p, "a whole number"); ok {
			r, err := strconv.Atoi(s)
			if err != nil || r < 0 {
				d.add(rangeOf(v), p, "write a whole number like 3, or 0 for the runtime's default", "%q is not a number of retries", s)
			} else {
				h.Retries = r
			}
		}
	}
	if !hasTest {
		d.add(h.Range, join(p, "test"), "add `test: COMMAND` (a string runs in the image's shell, a list runs directly), or write `healthcheck: none`", "the healthcheck has no test")
	}
	return h
}

// stopSignal decodes a STOPSIGNAL, taking what Dockerfile's STOPSIGNAL
// takes: moby/sys/signal's parser (a number, or a Linux signal's name with
// or without SIG).
func (d *decoder) stopSignal(n *yaml.Node, p string) string {
	s, ok := d.strOK(n, p, "a signal like SIGTERM")
	if !ok {
		return s
	}
	if _, err := signal.ParseSignal(s); err != nil || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		d.add(rangeOf(d.resolve(n)), p, "write a signal like SIGTERM, SIGQUIT, SIGRTMIN+3 or 15", "%q is not a signal", s)
	}
	return s
}

// ExposedPorts expands one expose: entry as Dockerfile's EXPOSE does: a
// port or a range of ports, with tcp (the default), udp or sctp, into
// "PORT/proto" keys of the image config. ok is false when spec is not that.
func ExposedPorts(spec string) (ports []string, ok bool) {
	rng, proto, _ := strings.Cut(spec, "/")
	switch strings.ToLower(proto) {
	case "":
		proto = "tcp"
	case "tcp", "udp", "sctp":
		proto = strings.ToLower(proto)
	default:
		return nil, false
	}
	first, last, isRange := strings.Cut(rng, "-")
	lo, err1 := strconv.ParseUint(first, 10, 16)
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.ParseUint(last, 10, 16)
	}
	if err1 != nil || err2 != nil || hi < lo {
		return nil, false
	}
	for p := lo; p <= hi; p++ {
		ports = append(ports, strconv.FormatUint(p, 10)+"/"+proto)
	}
	return ports, true
}

// expose decodes a step's exposed ports.
func (d *decoder) expose(n *yaml.Node, p string) []string {
	vs := d.strs(n, p, `a port like "8080/tcp"`, true)
	n = d.resolve(n)
	for i, v := range vs {
		if _, ok := ExposedPorts(v); !ok {
			at, ip := n, p
			if n.Kind == yaml.SequenceNode {
				at, ip = d.resolve(n.Content[i]), index(p, i)
			}
			hint := `write a port (0 to 65535) or a range, with /tcp, /udp or /sctp: "8080", "53/udp", "8000-8010/tcp"`
			if strings.Contains(v, ":") {
				hint = "expose takes the image's own ports only; publish them on a host address when the container runs (docker run -p)"
			}
			d.add(rangeOf(at), ip, hint, "%q is not a port to expose", v)
		}
	}
	return vs
}

// volumes decodes the VOLUME paths of a step's image.
func (d *decoder) volumes(n *yaml.Node, p string) []string {
	vs := d.strs(n, p, "an absolute path", true)
	n = d.resolve(n)
	for i, v := range vs {
		if !strings.HasPrefix(v, "/") || path.Clean(v) == "/" {
			at, ip := n, p
			if n.Kind == yaml.SequenceNode {
				at, ip = d.resolve(n.Content[i]), index(p, i)
			}
			d.add(rangeOf(at), ip, "write an absolute path like /data", "volume %q is not an absolute path other than /", v)
		} else if msg, hint := containerPathProblem(v); msg != "" {
			at, ip := n, p
			if n.Kind == yaml.SequenceNode {
				at, ip = d.resolve(n.Content[i]), index(p, i)
			}
			d.add(rangeOf(at), ip, hint, "volume %s %s", quoteShort(v), msg)
		}
	}
	return vs
}
