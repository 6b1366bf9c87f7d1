package spec

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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

// healthcheckFields are the keys of a healthcheck mapping.
var healthcheckFields = []string{"test", "interval", "timeout", "start-period", "start-interval", "retries"}

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
	duration := func(dst *time.Duration) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			s, ok := d.strOK(v, path, "a duration like 30s")
			if !ok {
				return
			}
			dur, err := time.ParseDuration(s)
			switch {
			case err != nil:
				d.add(rangeOf(v), path, "write a duration like 30s, 1m30s or 500ms", "%q is not a duration", s)
			case dur < 0:
				d.add(rangeOf(v), path, "write a duration like 30s, or 0 for the runtime's default", "%s is negative", s)
			case dur > 0 && dur < time.Millisecond:
				d.add(rangeOf(v), path, "write 1ms or more, or 0 for the runtime's default", "%s is shorter than 1ms", s)
			default:
				*dst = dur
			}
		}
	}
	d.fields(n, p, "a healthcheck like {test: COMMAND, interval: 30s}", map[string]func(*yaml.Node, string){
		"test": func(v *yaml.Node, path string) {
			hasTest = true
			v = d.resolve(v)
			if v.Kind == yaml.ScalarNode && !isNull(v) {
				cmd := d.str(v, path, "a command")
				if strings.TrimSpace(cmd) == "" {
					d.add(rangeOf(v), path, "write a command like `curl -f http://localhost/`", "the healthcheck command is empty")
				}
				h.Test = []string{"CMD-SHELL", cmd}
				return
			}
			args := d.strs(v, path, "an argument", false)
			if len(args) == 0 && v.Kind == yaml.SequenceNode {
				d.add(rangeOf(v), path, "write a command like [curl, -f, http://localhost/]", "the healthcheck command is empty")
			}
			h.Test = append([]string{"CMD"}, args...)
		},
		"interval":       duration(&h.Interval),
		"timeout":        duration(&h.Timeout),
		"start-period":   duration(&h.StartPeriod),
		"start-interval": duration(&h.StartInterval),
		"retries": func(v *yaml.Node, path string) {
			s, ok := d.strOK(v, path, "a whole number")
			if !ok {
				return
			}
			r, err := strconv.Atoi(s)
			if err != nil || r < 0 {
				d.add(rangeOf(v), path, "write a whole number like 3, or 0 for the runtime's default", "%q is not a number of retries", s)
				return
			}
			h.Retries = r
		},
	})
	if !hasTest {
		d.add(h.Range, join(p, "test"), "add `test: COMMAND` (a string runs in the image's shell, a list runs directly), or write `healthcheck: none`", "the healthcheck has no test")
	}
	return h
}

// signalName matches what Docker's signal parser takes: a number, or a name
// with or without SIG (SIGTERM, TERM, SIGRTMIN+3).
var signalName = regexp.MustCompile(`^([0-9]+|(SIG)?[A-Z][A-Z0-9]*([+-][0-9]+)?)$`)

// stopSignal decodes a STOPSIGNAL.
func (d *decoder) stopSignal(n *yaml.Node, p string) string {
	s, ok := d.strOK(n, p, "a signal like SIGTERM")
	if ok && !signalName.MatchString(s) {
		d.add(rangeOf(d.resolve(n)), p, "write a signal like SIGTERM, SIGQUIT or 15", "%q is not a signal", s)
	}
	return s
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
