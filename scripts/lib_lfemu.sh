# Sourced by the benchmark scripts: start and stop one lfemu on an ephemeral
# port. Expects $lfemu (the binary) and $work (a scratch directory); sets
# lfemu_pid, url and endpoint. The account is $LINKFACE_API_ID:$LINKFACE_API_SECRET.

lfemu_pid=""

# start_lfemu [lfemu flags...]: waits (5 s at most) until it listens.
start_lfemu() {
  "$lfemu" --port 0 --account "$LINKFACE_API_ID:$LINKFACE_API_SECRET" --log-level warn "$@" \
    >"$work/lfemu.out" 2>"$work/lfemu.err" &
  lfemu_pid=$!
  for _ in $(seq 100); do
    grep -q "listening" "$work/lfemu.out" 2>/dev/null && break
    sleep 0.05
  done
  url=$(sed -n 's/^lfemu listening on //p' "$work/lfemu.out")
  if [[ -z "$url" ]]; then
    echo "$(basename "$0"): lfemu did not start:" >&2
    cat "$work/lfemu.err" >&2
    exit 1
  fi
  endpoint="$url/identity/handhold_idcard_verification"
}

stop_lfemu() {
  if [[ -n "$lfemu_pid" ]]; then kill "$lfemu_pid" 2>/dev/null || true; wait "$lfemu_pid" 2>/dev/null || true; fi
  lfemu_pid=""
}
