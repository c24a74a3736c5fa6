# spawnbot image: build on the current LTS Node that better-sqlite3 supports (24; 26 is newer
# but better-sqlite3 12.x does not list it yet), production dependencies only, non-root.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci runs the prepare script (build when sources changed); src/ is not here yet, so it builds nothing.
COPY scripts/build-if-stale.mjs ./scripts/
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# The local cloud and the ssh client used for connect checks need tmux and openssh-client.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends tmux openssh-client ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
ENV SPAWNBOT_DATA_DIR=/data NODE_ENV=production SPAWNBOT_OPS_PORT=9090 SPAWNBOT_OPS_HOST=0.0.0.0
VOLUME ["/data"]
# 3000: Slack HTTP mode; 8080: the tunnel gateway (with SPAWNBOT_GATEWAY_HOST=0.0.0.0); 9090: health and metrics.
EXPOSE 3000 8080 9090
# The slim image has no curl: Node's fetch does the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SPAWNBOT_OPS_PORT || 9090) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
