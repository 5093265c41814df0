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

# write_wrk_upload_lua FILE: a wrk script that POSTs the runner's request (a
# multipart api_id, api_secret and file part) with the PNG named by
# $LF_BENCH_IMAGE; credentials from LINKFACE_API_ID / LINKFACE_API_SECRET.
write_wrk_upload_lua() {
  cat >"$1" <<'LUA'
local f = assert(io.open(os.getenv("LF_BENCH_IMAGE"), "rb"))
local image = f:read("*a")
f:close()
local b = "lfbatchBenchBoundary7MA4YWxkTrZu0gW"
local function field(name, value)
  return "--" .. b .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n" .. value .. "\r\n"
end
wrk.method = "POST"
wrk.path = "/identity/handhold_idcard_verification"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
wrk.body = field("api_id", os.getenv("LINKFACE_API_ID")) .. field("api_secret", os.getenv("LINKFACE_API_SECRET")) ..
  "--" .. b .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"image.png\"\r\n" ..
  "Content-Type: image/png\r\n\r\n" .. image .. "\r\n--" .. b .. "--\r\n"
LUA
}
