# syntax=docker/dockerfile:1
# The gateway's container image on Node 22 slim (LTS): production dependencies only, a non-root
# user, tini as PID 1 (signals reach Node, and MCP server processes started over stdio are reaped).
# Not Node 24 yet: better-sqlite3 12 (the last line that runs on Node 20, which the package still
# supports) aborts the process on Node >= 24.19 when the GC finalizes a statement; better-sqlite3
# 13 fixes it and needs Node 22. When Node 20 support ends, move to 13 and node:24-slim.
# Build: docker build -t openclaw-gateway .   Several instances: see compose.yaml.
# CI cannot run Docker; .ci/runtime-tree repeats the runtime stage's steps in a clean folder and
# boots the result, so what this file copies is what CI proves.

FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:22-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-runtime.sh ./scripts/
# better-sqlite3 is a native addon: its install script must run (it fetches nothing at run time).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
    && sh scripts/prune-runtime.sh .

FROM node:22-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    OPENCLAW_HOST=0.0.0.0 \
    OPENCLAW_DATABASE_URL=sqlite:/data/openclaw.db
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
COPY --from=build /app/bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 18789
# A non-loopback bind needs OPENCLAW_JWT_SECRET (and OPENCLAW_ENCRYPTION_KEY) from the environment.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:18789/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main.js"]
CMD ["serve"]
