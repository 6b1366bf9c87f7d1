# shellcheck shell=bash disable=SC2034 # variables are used by the sourcing scripts
# Shared helpers for the hack/ scripts. Source it; it defines no side effects
# beyond variables and functions.

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR="$ROOT_DIR/.cache/bin"
BUILDKIT_VERSION=v0.34.2 # must match the root go.mod and hack/tools/go.mod
BUILDX_VERSION=v0.38.2   # first buildx release built against buildkit v0.34.2

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarn:\033[0m %s\n' "$*" >&2; }
die() {
	printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
	exit 1
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	warn "timed out after ${secs}s waiting for $what"
	return 1
}

# pid_alive PIDFILE NAME: the recorded process still runs and is really NAME
# (guards against a recycled pid after a reboot or a crash).
pid_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# start_bg PIDFILE LOGFILE CMD...: run CMD detached in its own session (so it
# outlives this shell and its job's process group) and record its pid.
start_bg() {
	local pidfile=$1 logfile=$2
	shift 2
	rm -f "$pidfile"
	# The child writes its own pid then execs, so the pid is right even if
	# setsid has to fork.
	# shellcheck disable=SC2016 # expanded by the inner shell
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
	local i
	for ((i = 0; i < 50; i++)); do [[ -s $pidfile ]] && return 0; sleep 0.1; done
}

# stop_pid PIDFILE NAME: stop the recorded process, if it is still ours.
stop_pid() {
	local pidfile=$1 name=$2 pid i
	if pid_alive "$pidfile" "$name"; then
		pid=$(<"$pidfile")
		log "stopping ${name%% *} (pid $pid)"
		kill -TERM "$pid"
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			warn "$name did not stop in 10s, killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

# write_if_changed FILE: write stdin to FILE; succeed only if FILE changed.
write_if_changed() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX")
	cat >"$tmp"
	if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
		return 1
	fi
	mv "$tmp" "$1"
}

# ensure_apt PKG...: install the Debian packages that are missing; refresh the
# package index only when an install fails without it.
ensure_apt() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "${missing[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
}
