#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and demos.
#
#   scripts/pg_cluster.sh start DIR   # prints postgresql://USER@127.0.0.1:PORT/lfbatch, also in DIR/url
#   scripts/pg_cluster.sh stop DIR    # stops it and removes DIR (idempotent)
#
# The server listens on 127.0.0.1 only, on a free port, and on a unix socket
# in its data directory; every local connection is trusted (no password),
# except for the role lfbatch_password_test over TCP, which must give its
# password (scram-sha-256): the tests' authentication-failure cases. It runs
# with fsync, full_page_writes and synchronous_commit off: fast, and a crash
# of the machine may lose or corrupt it, which is fine for a cluster that is
# thrown away. Never point it at data you care about.
#
# Where things live: DIR (which the caller names, e.g. under the build tree)
# holds only `url` and `server_dir`; the cluster itself (data, socket, log)
# is a fresh directory under ${TMPDIR:-/tmp}, named in DIR/server_dir. The
# split is for root: initdb and postgres refuse to run as root, so as root
# the script runs them as the `postgres` user (made by the postgresql
# packages; `nobody` when it is missing) through setpriv, and that user must
# own the data directory and reach it. A build tree under /root or another
# private directory is out of its reach; /tmp is not. setpriv (util-linux,
# always present) and not pg_virtualenv: pg_virtualenv wraps one command and
# removes the cluster when that command ends, while CTest starts and stops
# the cluster in separate tests (pg_cluster_start, pg_cluster_stop).
set -euo pipefail

die() { echo "pg_cluster.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }

(($# == 2)) || usage
command="$1"
dir="$2"
[[ -n "$dir" ]] || usage
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac

# The server binaries: the newest /usr/lib/postgresql/*/bin (Debian's
# layout), else whatever is on PATH. `pg_config --bindir` is not asked: it
# belongs to libpq-dev and may name a version without a server.
find_bindir() {
  local candidate
  if [[ -n "${LF_PG_BINDIR:-}" ]]; then
    [[ -x "$LF_PG_BINDIR/initdb" ]] || die "LF_PG_BINDIR=$LF_PG_BINDIR has no initdb"
    echo "$LF_PG_BINDIR"
    return
  fi
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" && -x "$candidate/postgres" ]]; then
      echo "$candidate"
      return
    fi
  done
  candidate="$(command -v initdb 2>/dev/null || true)"
  if [[ -n "$candidate" ]]; then
    candidate="$(dirname "$(readlink -f "$candidate")")"
    if [[ -x "$candidate/pg_ctl" && -x "$candidate/postgres" ]]; then
      echo "$candidate"
      return
    fi
  fi
  die "the PostgreSQL server (initdb, pg_ctl, postgres) is not installed: run scripts/setup.sh" \
      "(it installs the Debian package postgresql), or set LF_PG_BINDIR to its bin directory"
}

# as_server CMD...: runs CMD as the user who owns the cluster (see above).
server_user=""
pick_server_user() {
  if [[ $(id -u) != 0 ]]; then
    server_user="$(id -un)"
    return
  fi
  command -v setpriv >/dev/null || die "setpriv is missing (util-linux): run scripts/setup.sh"
  local user
  for user in postgres nobody; do
    if id -u "$user" >/dev/null 2>&1; then
      server_user="$user"
      return
    fi
  done
  die "running as root, and neither the postgres user nor nobody exists to run PostgreSQL as"
}
as_server() {
  if [[ $(id -u) == 0 ]]; then
    setpriv --reuid="$server_user" --regid="$(id -g "$server_user")" --clear-groups -- "$@"
  else
    "$@"
  fi
}
# as_owner PATH CMD...: runs CMD as the user who owns PATH (for stop, which
# may run in another process than start).
as_owner() {
  local path="$1"
  shift
  local owner
  owner="$(stat -c %U "$path")"
  if [[ $(id -u) == 0 && "$owner" != root ]]; then
    setpriv --reuid="$owner" --regid="$(stat -c %g "$path")" --clear-groups -- "$@"
  else
    "$@"
  fi
}

# A port nobody listens on now. Another process may take it before the
# server binds it: start retries with a new port when the server fails.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Stops the cluster DIR names, if any, and removes it and DIR. Refuses a DIR
# that this script did not make, so a wrong argument cannot remove data.
stop_cluster() {
  [[ -e "$dir" ]] || return 0
  [[ -d "$dir" ]] || die "$dir is not a directory"
  local entry
  for entry in "$dir"/* "$dir"/.[!.]*; do
    [[ -e "$entry" ]] || continue
    case "$(basename "$entry")" in
      url | server_dir | url.tmp) ;;
      *) die "$dir holds $(basename "$entry"): it is not a cluster started by pg_cluster.sh; not removing it" ;;
    esac
  done
  if [[ -f "$dir/server_dir" ]]; then
    local server
    server="$(cat "$dir/server_dir")"
    if [[ "$server" == */lfbatch-pg.* && -d "$server" ]]; then
      if [[ -f "$server/data/postmaster.pid" ]]; then
        local bindir
        bindir="$(find_bindir)"
        # -m fast: disconnect the clients and stop now; the data is thrown away.
        as_owner "$server/data" "$bindir/pg_ctl" stop -D "$server/data" -m fast -w -t 60 \
          >/dev/null 2>&1 || true
        if as_owner "$server/data" "$bindir/pg_ctl" status -D "$server/data" >/dev/null 2>&1; then
          die "the server in $server/data does not stop; see $server/server.log"
        fi
      fi
      rm -rf "$server"
    fi
  fi
  rm -rf "$dir"
}

start_cluster() {
  local bindir
  bindir="$(find_bindir)"
  command -v python3 >/dev/null || die "python3 is missing (it picks a free port): run scripts/setup.sh"
  pick_server_user

  # A cluster left by an interrupted run (a killed ctest) goes first.
  stop_cluster
  mkdir -p "$dir"

  local server
  server="$(mktemp -d "${TMPDIR:-/tmp}/lfbatch-pg.XXXXXX")"
  echo "$server" >"$dir/server_dir"
  if [[ $(id -u) == 0 ]]; then chown "$server_user:" "$server"; fi
  as_server test -w "$server" ||
    die "$server_user cannot write to $server: set TMPDIR to a directory it can reach"

  local log="$server/server.log"
  if ! as_server "$bindir/initdb" -D "$server/data" --username="$server_user" --auth=trust \
      --encoding=UTF8 --no-locale --no-sync >"$server/initdb.log" 2>&1; then
    cat "$server/initdb.log" >&2
    die "initdb failed in $server/data (its output is above)"
  fi
  # pg_hba.conf: first match wins. The password role only over TCP.
  as_server tee "$server/data/pg_hba.conf" >/dev/null <<EOF
# pg_cluster.sh: a throwaway test cluster, trusted except for the password test role.
local all all                                   trust
host  all lfbatch_password_test 127.0.0.1/32    scram-sha-256
host  all all                   127.0.0.1/32    trust
EOF

  local port attempt started=0
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    as_server tee "$server/data/postgresql.auto.conf" >/dev/null <<EOF
# pg_cluster.sh: loopback only, a socket of its own, durability off (a test cluster).
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$server'
fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 100
EOF
    if as_server "$bindir/pg_ctl" start -D "$server/data" -l "$log" -w -t 60 >/dev/null 2>&1; then
      started=1
      break
    fi
    # A port taken meanwhile: try another; any other failure: stop here.
    grep -q "Address already in use" "$log" 2>/dev/null || break
  done
  if ((started == 0)); then
    tail -n 20 "$log" >&2 || true
    die "the PostgreSQL server in $server/data did not start (its log is above)"
  fi

  if ! as_server "$bindir/psql" -X -q -h "$server" -p "$port" -U "$server_user" -d postgres \
      -v ON_ERROR_STOP=1 -c "CREATE DATABASE lfbatch" >/dev/null; then
    die "cannot create the database lfbatch in $server/data"
  fi
  local url="postgresql://$server_user@127.0.0.1:$port/lfbatch"
  echo "$url" >"$dir/url.tmp"
  mv "$dir/url.tmp" "$dir/url"
  echo "$url"
}

case "$command" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
