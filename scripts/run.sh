#!/usr/bin/env bash
# Starts Tawjih's parts (Procfile) under scripts/supervise.py, which restarts any part that dies.
#
#   scripts/run.sh                     every part, in the foreground; Ctrl-C stops them all (make run)
#   scripts/run.sh registry actions    only these parts (e.g. for `rasa interactive` in another terminal)
#   scripts/run.sh --shell             the registry and the action server in the background, and
#                                      `rasa shell` in the foreground; leaving it stops them (make shell)
#   scripts/run.sh --cluster           two Rasa instances and two action servers behind HAProxy, on the
#                                      machine's PostgreSQL, Redis and RabbitMQ (make cluster; deploy/cluster/)
#
# Every setting has a default here and can be overridden from the environment (README, "Settings").
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

shell=false
cluster=false
procfile=Procfile
if [ "${1:-}" = "--shell" ]; then
  shell=true
  shift
elif [ "${1:-}" = "--cluster" ]; then
  cluster=true
  procfile=deploy/cluster/Procfile
  shift
fi

# Settings kept in a .env file, as honcho used to read them (it stays out of git).
if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi

# Local development secrets, made once and kept out of git (var/ is ignored). In production,
# set REGISTRY_ADMIN_TOKEN, RASA_AUTH_TOKEN and TAWJIH_REST_TOKEN in the environment instead.
secrets_file=var/dev-secrets.env
touch "$secrets_file" && chmod 600 "$secrets_file"
for name in DEV_REGISTRY_ADMIN_TOKEN DEV_RASA_AUTH_TOKEN DEV_CONVERSATION_ID_KEY DEV_REST_TOKEN DEV_CONSOLE_SECRET_KEY DEV_CONSOLE_ADMIN_PASSWORD DEV_HANDOFF_SERVICE_TOKEN; do
  grep -q "^$name=" "$secrets_file" || echo "$name=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> "$secrets_file"
done
# shellcheck disable=SC1090
. "$secrets_file"

export RASA_TELEMETRY_ENABLED=false
if $cluster; then
  # The parts every instance shares (README, "Several instances"): point them elsewhere with these variables.
  pg="${TAWJIH_CLUSTER_POSTGRES:-postgresql://postgres@127.0.0.1:5432}"
  export TRACKER_STORE_URL="${TRACKER_STORE_URL:-$pg/tawjih_tracker}"
  export REGISTRY_DATABASE_URL="${REGISTRY_DATABASE_URL:-$pg/tawjih_registry}"
  export CONSOLE_DATABASE_URL="${CONSOLE_DATABASE_URL:-$pg/tawjih_console}"
  export LOCK_STORE_URL="${LOCK_STORE_URL:-redis://127.0.0.1:6379/1}"
  export TAWJIH_CHANNEL_STATE_URL="${TAWJIH_CHANNEL_STATE_URL:-redis://127.0.0.1:6379/2}"
  export EVENT_BROKER_URL="${EVENT_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672}"
  export RASA_PORT_1="${RASA_PORT_1:-5006}" RASA_PORT_2="${RASA_PORT_2:-5007}"
  export ACTION_SERVER_PORT_1="${ACTION_SERVER_PORT_1:-5055}" ACTION_SERVER_PORT_2="${ACTION_SERVER_PORT_2:-5056}"
  # Each database made once (PostgreSQL's trust or password auth, as the URLs say).
  .venv/bin/python scripts/cluster_databases.py "$TRACKER_STORE_URL" "$REGISTRY_DATABASE_URL" "$CONSOLE_DATABASE_URL"
fi
export RASA_HOST="${RASA_HOST:-127.0.0.1}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
export REGISTRY_HOST="${REGISTRY_HOST:-127.0.0.1}"
export REGISTRY_PORT="${REGISTRY_PORT:-8100}"
export REGISTRY_URL="${REGISTRY_URL:-http://127.0.0.1:${REGISTRY_PORT}}"
export REGISTRY_DATABASE_URL="${REGISTRY_DATABASE_URL:-sqlite:///var/registry.db}"
export REGISTRY_ADMIN_TOKEN="${REGISTRY_ADMIN_TOKEN:-$DEV_REGISTRY_ADMIN_TOKEN}"
export RASA_AUTH_TOKEN="${RASA_AUTH_TOKEN:-$DEV_RASA_AUTH_TOKEN}"
# The bearer token of the REST channel (/webhooks/rest/webhook).
if [ -n "${TAWJIH_REST_TOKEN:-}" ]; then
  rest_token_hint="TAWJIH_REST_TOKEN, as set in your environment"
else
  rest_token_hint="in var/dev-secrets.env: export TAWJIH_REST_TOKEN=\$(grep ^DEV_REST_TOKEN= var/dev-secrets.env | cut -d= -f2)"
fi
export TAWJIH_REST_TOKEN="${TAWJIH_REST_TOKEN:-$DEV_REST_TOKEN}"
# Keys the hash that stands for a phone number in conversation ids; changing it starts new conversations.
export TAWJIH_CONVERSATION_ID_KEY="${TAWJIH_CONVERSATION_ID_KEY:-$DEV_CONVERSATION_ID_KEY}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_SERVER_PORT}/webhook}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///var/tracker.db}"
export WEB_HOST="${WEB_HOST:-127.0.0.1}"
export WEB_PORT="${WEB_PORT:-8080}"
export WEB_RASA_URL="${WEB_RASA_URL:-http://${RASA_HOST}:${RASA_PORT}}"
export WEB_ORIGINS="${WEB_ORIGINS:-http://${WEB_HOST}:${WEB_PORT},http://localhost:${WEB_PORT}}"
# The staff console (console/): its own database, the cookie's signing key, and a development admin.
export CONSOLE_HOST="${CONSOLE_HOST:-127.0.0.1}"
export CONSOLE_PORT="${CONSOLE_PORT:-8200}"
export CONSOLE_DATABASE_URL="${CONSOLE_DATABASE_URL:-sqlite:///var/console.db}"
export CONSOLE_SECRET_KEY="${CONSOLE_SECRET_KEY:-$DEV_CONSOLE_SECRET_KEY}"
export CONSOLE_URL="${CONSOLE_URL:-http://${CONSOLE_HOST}:${CONSOLE_PORT}}"
# Handoff to advisers: the action server queues requests in the console with this token, and the
# console reaches the person through Rasa's HTTP API (RASA_URL, RASA_AUTH_TOKEN).
export HANDOFF_SERVICE_TOKEN="${HANDOFF_SERVICE_TOKEN:-$DEV_HANDOFF_SERVICE_TOKEN}"
export RASA_URL="${RASA_URL:-http://${RASA_HOST}:${RASA_PORT}}"
export SANIC_HOST=127.0.0.1   # the action server only ever talks to Rasa, on this machine

.venv/bin/python -m registry seed

# The console's schema, and the development admin `admin` (its password: DEV_CONSOLE_ADMIN_PASSWORD in
# var/dev-secrets.env), made once; the password goes through standard input, never the command line.
if ! $shell && { [ $# -eq 0 ] || [[ " $* " == *" console "* ]]; }; then
  .venv/bin/python -m console migrate
  printf '%s\n' "$DEV_CONSOLE_ADMIN_PASSWORD" | .venv/bin/python -m console users add admin --role admin --if-missing
fi

if $shell; then
  parts_log=var/shell-parts.log
  .venv/bin/python scripts/supervise.py registry actions >"$parts_log" 2>&1 &
  supervisor=$!
  stop_parts() {
    kill -TERM "$supervisor" 2>/dev/null || true
    wait "$supervisor" 2>/dev/null || true
  }
  trap stop_parts EXIT
  trap 'exit 130' INT TERM
  echo "Starting the registry and the action server in the background (their output: $parts_log)"
  # Wait for both to answer before Rasa loads (a minute at most; the supervisor restarts a part that fails).
  .venv/bin/python - "$REGISTRY_URL/health" "http://127.0.0.1:${ACTION_SERVER_PORT}/health" <<'PY' ||
import sys, time, urllib.request
deadline = time.monotonic() + 60
for url in sys.argv[1:]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{url} does not answer")
        time.sleep(0.2)
PY
    { echo "The registry or the action server did not start; the end of $parts_log:"; tail -n 20 "$parts_log"; exit 1; }
  echo "Loading the model (a minute or so); type /stop to leave."
  .venv/bin/python scripts/serve_rasa.py shell --model models/tawjih.tar.gz --interface 127.0.0.1 \
    --port "$RASA_PORT" --endpoints endpoints.yml "$@"
  exit $?
fi

if $cluster && [ $# -eq 0 ]; then
  cat <<MSG

  Tawjih's cluster is starting (Ctrl-C stops everything): two Rasa instances (${RASA_PORT_1}, ${RASA_PORT_2}) and
  two action servers behind HAProxy on ${RASA_PORT}; PostgreSQL, Redis and RabbitMQ as set in the environment.
MSG
fi
if [ $# -eq 0 ]; then
  cat <<MSG

  Tawjih is starting (Ctrl-C stops everything; a part that stops on its own is started again):
    Web chat:         http://${WEB_HOST}:${WEB_PORT}/
    Chat (REST):      curl -s -X POST http://${RASA_HOST}:${RASA_PORT}/webhooks/rest/webhook -H "Authorization: Bearer \$TAWJIH_REST_TOKEN" -H 'Content-Type: application/json' -d '{"sender":"me","message":"salam"}'
                      (the token: ${rest_token_hint})
    Rasa HTTP API:    http://${RASA_HOST}:${RASA_PORT}/status?token=\$RASA_AUTH_TOKEN  (unless set: DEV_RASA_AUTH_TOKEN in var/dev-secrets.env)
    Registry API:     ${REGISTRY_URL}/docs   (staff writes need REGISTRY_ADMIN_TOKEN)
    Action server:    127.0.0.1:${ACTION_SERVER_PORT} (internal only)
    Staff console:    http://${CONSOLE_HOST}:${CONSOLE_PORT}/  (user admin; password: DEV_CONSOLE_ADMIN_PASSWORD in var/dev-secrets.env)
    Retention:        conversations older than ${TAWJIH_RETENTION_DAYS:-90} days are deleted every hour

MSG
fi
exec .venv/bin/python scripts/supervise.py -f "$procfile" "$@"
