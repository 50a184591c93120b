# syntax=docker/dockerfile:1
#
# Patchbay as a container: compiled JavaScript only, run by an unprivileged user.
#
#   docker build -t patchbay .
#   docker run --init -p 4000:4000 -e PATCHBAY_MASTER_KEY -e DATABASE_URL patchbay
#
# The build stage runs `npm run build`, which builds the web page (web/dist) and compiles
# src/ to dist/ (entry dist/main.js).
# Without DATABASE_URL the server runs its embedded PostgreSQL in /data, as the same
# unprivileged user. NODE_ENV=production: PATCHBAY_MASTER_KEY is required.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so editing the sources does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Prisma's client, then `npm run build`: the web page into web/dist and the server compiled
# into dist/. Dependencies' install scripts stay off, as in development (npm's allowScripts):
# none is needed to run. Then drop the build-only dependencies.
RUN npm run generate \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    PATCHBAY_DATA_DIR=/data
WORKDIR /app
# setpriv (util-linux, in every Debian image) gives the embedded PostgreSQL its parent-death
# signal; nothing else is installed.
RUN groupadd --system patchbay \
 && useradd --system --gid patchbay --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin patchbay \
 && install -d -o patchbay -g patchbay -m 0700 /data
# Owned by root: the server cannot change its own code.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/web/dist ./web/dist
COPY --from=build /src/prisma/migrations ./prisma/migrations
USER patchbay
VOLUME ["/data"]
EXPOSE 4000
# /readyz: 200 once the database answers. Node's fetch, as the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: requests in flight finish, then the database pool and the embedded PostgreSQL close (< 10 s).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
