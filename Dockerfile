# syntax=docker/dockerfile:1
# livedrop server image: one image, the role is the command (gateway, worker, media, start).
#   docker build -t livedrop .
#   docker run --rm -p 8080:8080 -e GATEWAY_HOST=0.0.0.0 livedrop gateway
# docs/deploying.md describes the image, the compose topology and the Kubernetes manifests.

ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: dev dependencies, tsc into dist/ and the Vite client into client/dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# Install scripts stay off (as on the dev machines): mediasoup's would compile a worker we do not use.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime stage: production dependencies only, plus the Debian mediasoup-worker and ffmpeg for the media role.
FROM ${NODE_IMAGE} AS runtime
# Must match the npm mediasoup version exactly; Debian ships it only in experimental.
ARG MEDIASOUP_WORKER_VERSION=3.8.4
ARG DEBIAN_MIRROR=http://deb.debian.org/debian
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The experimental suite is used for this one package only, through a private sources list, so the
# image's apt sources stay plain bookworm; its dependencies come from bookworm.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ffmpeg ca-certificates \
 && work="$(mktemp -d)" \
 && echo "deb ${DEBIAN_MIRROR} experimental main" > "${work}/sources.list" \
 && mkdir -p "${work}/lists/partial" \
 && apt-get -oDir::Etc::SourceList="${work}/sources.list" -oDir::Etc::SourceParts=/dev/null \
      -oDir::State::Lists="${work}/lists" update \
 && (cd "${work}" && apt-get -oDir::Etc::SourceList="${work}/sources.list" -oDir::Etc::SourceParts=/dev/null \
      -oDir::State::Lists="${work}/lists" download "mediasoup-worker=${MEDIASOUP_WORKER_VERSION}*") \
 && apt-get install -y --no-install-recommends "${work}"/mediasoup-worker_*.deb \
 && rm -rf "${work}" /var/lib/apt/lists/* \
 && ln -s "$(dpkg -L mediasoup-worker | grep '/mediasoup-worker$' | head -n 1)" /usr/local/bin/mediasoup-worker

WORKDIR /app
ENV NODE_ENV=production \
    LIVEDROP_DATA_DIR=/var/lib/livedrop \
    GATEWAY_HOST=0.0.0.0 \
    MEDIA_HOST=0.0.0.0 \
    WORKER_HOST=0.0.0.0 \
    MEDIA_LISTEN_IP=0.0.0.0 \
    MEDIA_WORKER_BIN=/usr/local/bin/mediasoup-worker \
    MEDIA_FFMPEG_BIN=/usr/bin/ffmpeg
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY --from=build /src/client/dist ./client/dist
RUN mkdir -p /var/lib/livedrop && chown node:node /var/lib/livedrop

# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 8080 8090 9464

# The probe finds the role from PID 1's command line (tini -- node dist/cli/main.js ROLE) and asks
# that role's own port; ports are the configuration defaults unless the environment overrides them.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const a=require('fs').readFileSync('/proc/1/cmdline','utf8').split('\\0').filter(Boolean);const r=a[a.length-1];const e=process.env;const p=r==='media'?e.MEDIA_PORT||8090:r==='worker'?e.WORKER_PORT||9464:e.GATEWAY_PORT||8080;fetch('http://127.0.0.1:'+p+'/healthz').then(x=>process.exit(x.ok?0:1),()=>process.exit(1))"]

# tini is PID 1: it forwards SIGTERM to node (which drains within LIVEDROP_STOP_GRACE_MS) and reaps
# the mediasoup-worker and ffmpeg children.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli/main.js"]
# The public role by default; `start` (every role in one process) also needs REDIS_URL here, since the
# image has no redis-server to embed.
CMD ["gateway"]
