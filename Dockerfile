# syntax=docker/dockerfile:1
# katapult-chatops container image. Build: `docker build -t katapult-chatops .`
# Both stages use Debian bookworm, so the sqlite3 native module built (or downloaded) in the first
# runs in the second. The image runs Node 26, the active LTS; package.json admits 22.13 and later, and
# CI (.ci/run) tests both lines.

# --- build: every dependency, compile TypeScript, then drop the dev dependencies -----------------
# The full image carries python3, make and g++, which sqlite3 needs when no prebuilt binary fits.
FROM node:26-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-dependencies.mjs ./scripts/
# Only the install scripts package.json's "allowScripts" allows (npm here ignores that map): install
# with none, then run the allowed ones by name. sqlite3's downloads or builds its native module; our
# own postinstall patches dependencies (scripts/patch-dependencies.mjs).
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild sqlite3 \
  && node scripts/patch-dependencies.mjs
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build` ends with this script (the bin made executable, the sources' hash noted).
COPY scripts/start-stamp.mjs ./scripts/
# `npm prune` removes the dev dependencies without rebuilding native modules.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: Node 26 LTS, slim, no compiler, no npm install, not root ---------------------------
FROM node:26-bookworm-slim AS runtime
WORKDIR /app
# DATA_DIR holds the SQLite file and a generated key when no shared store and no key are set
# (single container only: mount a volume there). With PostgreSQL or Redis nothing is written.
ENV DATA_DIR=/data
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The operator CLI (`node dist/cli.js check`) compares the Slack scopes with the manifests.
COPY manifest.yml manifest.oauth.yml ./
# uid 1000 is the image's `node` user; numeric, so Kubernetes can verify runAsNonRoot.
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
# PORT (default 3000): /healthz, /readyz and /metrics in both modes, plus /slack/events in HTTP mode.
# 9464: /metrics and /readyz when METRICS_PORT=9464 (compose.yaml and deploy/kubernetes set it), so
# that /metrics stays off the port that receives Slack's requests.
EXPOSE 3000 9464
# No curl in the slim image: Node's own fetch asks /healthz (the process is up).
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: stop taking requests, finish what is under way (up to 50 s by default), exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
