#!/usr/bin/env bash
# Start Airflow locally on the project (what `make airflow` runs).
#
# AIRFLOW_HOME is data/airflow (SQLite metadata DB, logs, the generated admin
# password), the DAGs come from ./dags, no example DAGs, no telemetry from any
# library. The simulated agency feeds are generated once and served on
# localhost:8765 for the http_json feed; the feed server stops with Airflow.
# Every setting below can be overridden from the calling environment.
set -euo pipefail

cd "$(dirname "$0")/.."
PROJECT="$PWD"
BIN="$PROJECT/.venv/bin"

export PEACEOPS_DATA_DIR="${PEACEOPS_DATA_DIR:-$PROJECT/data}"
export PEACEOPS_FEEDS="${PEACEOPS_FEEDS:-$PROJECT/feeds.yaml}"
FEEDS_PORT="${PEACEOPS_FEEDS_PORT:-8765}"
export PEACEOPS_FEEDS_URL="${PEACEOPS_FEEDS_URL:-http://127.0.0.1:$FEEDS_PORT}"
# Demo credentials of the simulated API only; a real feed's come from an Airflow
# connection (peaceops_unmic) or the environment, never from code.
export PEACEOPS_UNMIC_CREDENTIALS="${PEACEOPS_UNMIC_CREDENTIALS:-demo-client:demo-secret}"

export AIRFLOW_HOME="${AIRFLOW_HOME:-$PEACEOPS_DATA_DIR/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$PROJECT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
# SQLite takes one writer at a time: keep the number of concurrent task processes small.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
# Tasks record this machine's own name, not its FQDN: Airflow's default asks the
# resolver for that, a DNS query wherever /etc/hosts does not list the host.
export AIRFLOW__CORE__HOSTNAME_CALLABLE="${AIRFLOW__CORE__HOSTNAME_CALLABLE:-socket.gethostname}"
# The UI is for this machine only (its admin password sits in a plain file).
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
API_PORT="${AIRFLOW__API__PORT:-8080}"

# No library phones home.
export AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
export GX_ANALYTICS_ENABLED=False
export DO_NOT_TRACK=1

# Task processes find the project's python, dbt and peaceops first.
export PATH="$BIN:$PATH"

# shellcheck source=scripts/feeds.sh
source "$PROJECT/scripts/feeds.sh"
# Before anything slow: the feed server's port must be free for our own server.
port_free "$FEEDS_PORT" || exit 1
mkdir -p "$AIRFLOW_HOME"

if [ ! -f "$PEACEOPS_DATA_DIR/sim/manifest.json" ]; then
    echo "airflow.sh: no simulated agencies in $PEACEOPS_DATA_DIR/sim yet: peaceops simulate"
    "$BIN/peaceops" simulate
fi

trap 'kill "${FEEDS_PID:-}" 2>/dev/null || true' EXIT
start_feed_server "$FEEDS_PORT" "$AIRFLOW_HOME/feedserver.log" || exit 1

"$BIN/airflow" db migrate >/dev/null
"$BIN/airflow" pools set peaceops_duckdb 1 "DuckDB writers: warehouse build, gate, publish, compaction" >/dev/null

cat <<INFO

  Airflow UI     http://localhost:$API_PORT   (user: admin)
  Password       written by Airflow at first start to
                 $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated
  Feeds served   $PEACEOPS_FEEDS_URL (log: $AIRFLOW_HOME/feedserver.log)
  Data dir       $PEACEOPS_DATA_DIR
  DAGs are paused when first seen: unpause peaceops_ingest.* and peaceops_warehouse in the UI,
  or: AIRFLOW_HOME=$AIRFLOW_HOME $BIN/airflow dags unpause <dag_id>

INFO

"$BIN/airflow" standalone
