#!/usr/bin/env bash
# Starts the registry, the action server and Rasa as one process group (honcho); Ctrl-C stops them all.
# Every setting has a default here and can be overridden from the environment (README, "Settings").
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

# Local development secrets, made once and kept out of git (var/ is ignored). In production,
# set REGISTRY_ADMIN_TOKEN and RASA_AUTH_TOKEN in the environment instead.
secrets_file=var/dev-secrets.env
touch "$secrets_file" && chmod 600 "$secrets_file"
for name in DEV_REGISTRY_ADMIN_TOKEN DEV_RASA_AUTH_TOKEN DEV_CONVERSATION_ID_KEY; do
  grep -q "^$name=" "$secrets_file" || echo "$name=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> "$secrets_file"
done
# shellcheck disable=SC1090
. "$secrets_file"

export RASA_TELEMETRY_ENABLED=false
export RASA_HOST="${RASA_HOST:-127.0.0.1}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
export REGISTRY_HOST="${REGISTRY_HOST:-127.0.0.1}"
export REGISTRY_PORT="${REGISTRY_PORT:-8100}"
export REGISTRY_URL="${REGISTRY_URL:-http://127.0.0.1:${REGISTRY_PORT}}"
export REGISTRY_DATABASE_URL="${REGISTRY_DATABASE_URL:-sqlite:///var/registry.db}"
export REGISTRY_ADMIN_TOKEN="${REGISTRY_ADMIN_TOKEN:-$DEV_REGISTRY_ADMIN_TOKEN}"
export RASA_AUTH_TOKEN="${RASA_AUTH_TOKEN:-$DEV_RASA_AUTH_TOKEN}"
# Keys the hash that stands for a phone number in conversation ids; changing it starts new conversations.
export TAWJIH_CONVERSATION_ID_KEY="${TAWJIH_CONVERSATION_ID_KEY:-$DEV_CONVERSATION_ID_KEY}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_SERVER_PORT}/webhook}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///var/tracker.db}"
export WEB_HOST="${WEB_HOST:-127.0.0.1}"
export WEB_PORT="${WEB_PORT:-8080}"
export WEB_RASA_URL="${WEB_RASA_URL:-http://${RASA_HOST}:${RASA_PORT}}"
export WEB_ORIGINS="${WEB_ORIGINS:-http://${WEB_HOST}:${WEB_PORT},http://localhost:${WEB_PORT}}"
export SANIC_HOST=127.0.0.1   # the action server only ever talks to Rasa, on this machine

.venv/bin/python -m registry seed

cat <<MSG

  Tawjih is starting (Ctrl-C stops everything):
    Web chat:         http://${WEB_HOST}:${WEB_PORT}/
    Chat (REST):      curl -s -X POST http://${RASA_HOST}:${RASA_PORT}/webhooks/rest/webhook -H 'Content-Type: application/json' -d '{"sender":"me","message":"salam"}'
    Rasa HTTP API:    http://${RASA_HOST}:${RASA_PORT}/status?token=\$RASA_AUTH_TOKEN  (tokens: var/dev-secrets.env)
    Registry API:     ${REGISTRY_URL}/docs   (staff writes need REGISTRY_ADMIN_TOKEN)
    Action server:    127.0.0.1:${ACTION_SERVER_PORT} (internal only)
    Retention:        conversations older than ${TAWJIH_RETENTION_DAYS:-90} days are deleted every hour

MSG
exec .venv/bin/honcho -f Procfile start
