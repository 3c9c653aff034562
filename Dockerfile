# syntax=docker/dockerfile:1
# One image for every part of Tawjih (deploy/k8s/): Rasa, the action server, the registry, the console,
# the web page and the retention purge, each started with its own command.
#
#   make setup train                                  # the model is baked in: train it first
#   docker build -t registry.example.org/tawjih:0.1.0 .
#
# Nothing is downloaded when a container starts: the Python packages (requirements.lock), the npm
# front-end libraries (package-lock.json) and the trained model are all in the image.

# The web widget's socket.io-client and the console's chart.js, from npm with their lock files.
FROM node:22-bookworm-slim AS npm
WORKDIR /build
COPY web/package.json web/package-lock.json web/
COPY console/package.json console/package-lock.json console/
RUN npm ci --prefix web --no-audit --no-fund \
 && npm ci --prefix console --no-audit --no-fund

FROM python:3.10-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    HOME=/tmp

# The user every container runs as (deploy/k8s: runAsUser 10001); it owns nothing in /app.
RUN groupadd --system --gid 10001 tawjih \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin tawjih

WORKDIR /app
# As scripts/setup.sh installs it: the exact pins, no resolution, then a consistency check.
COPY requirements.lock .
RUN python -m pip install --quiet "pip<25" \
 && python -m pip install --quiet --no-deps -r requirements.lock \
 && python -m pip check

# The code and configuration (.dockerignore keeps out the virtualenv, local databases, secrets and tests).
COPY . .
COPY --from=npm /build/web/node_modules web/node_modules
COPY --from=npm /build/console/node_modules console/node_modules
# The trained model came in with the code (.dockerignore lets models/tawjih.tar.gz through, and nothing
# else of models/): the build stops here if `make train` has not made it. Then bytecode, now: the root
# filesystem is read-only in the cluster.
RUN test -f /app/models/tawjih.tar.gz || { echo "models/tawjih.tar.gz is missing: run 'make train' first" >&2; exit 1; } \
 && python -m compileall -q /app

USER 10001:10001
EXPOSE 5005 5055 8080 8100 8200
# Each Deployment names its own command; by default, Rasa.
CMD ["python", "scripts/serve_rasa.py", "--model", "/app/models/tawjih.tar.gz", "--interface", "0.0.0.0", "--port", "5005", "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
