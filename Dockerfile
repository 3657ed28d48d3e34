# syntax=docker/dockerfile:1
# The gateway's container image, on Node 24. Build: docker build -t openclaw-gateway .
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    OPENCLAW_HOST=0.0.0.0 \
    OPENCLAW_DATABASE_URL=sqlite:/data/openclaw.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
COPY --from=build /app/bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 18789
# A non-loopback bind needs OPENCLAW_JWT_SECRET (and OPENCLAW_ENCRYPTION_KEY) from the environment.
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:18789/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
