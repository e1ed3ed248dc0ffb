# Start the simulated feed server and make sure it is the one answering (sourced by
# airflow.sh). With its port taken, ingest would quietly pull whatever answers there:
# another run's server, or another program.
#
# Needs BIN, the folder of the project's python and peaceops.

# port_free PORT: fail, saying why, when something already listens on 127.0.0.1:PORT.
port_free() {
    "$BIN/python" - "$1" <<'PY'
import socket
import sys

port = int(sys.argv[1])
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
    try:
        s.bind(("127.0.0.1", port))
    except OSError as err:
        sys.exit(
            f"port {port} for the feed server is taken ({err.strerror}): "
            "stop what listens there, or set PEACEOPS_FEEDS_PORT"
        )
PY
}

# start_feed_server PORT LOG: run `peaceops serve-feeds` in the background (pid in
# FEEDS_PID), then wait until it answers its health endpoint; fail if it dies first
# or stays silent for 20 s.
start_feed_server() {
    local port=$1 log=$2
    "$BIN/peaceops" serve-feeds --port "$port" >"$log" 2>&1 &
    FEEDS_PID=$!
    for _ in $(seq 100); do
        if ! kill -0 "$FEEDS_PID" 2>/dev/null; then
            echo "the feed server stopped at start (log $log):" >&2
            tail -n 5 "$log" >&2
            return 1
        fi
        if "$BIN/python" -c 'import sys, urllib.request
sys.exit(urllib.request.urlopen(sys.argv[1], timeout=1).read() != b"ok")' \
            "http://127.0.0.1:$port/health" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "the feed server did not answer http://127.0.0.1:$port/health within 20 s (log $log)" >&2
    return 1
}
