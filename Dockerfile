# psc-gateway container image, on Node.js 24 (LTS). Three stages: build compiles TypeScript (the
# product only: tsconfig.build.json leaves the PSC emulator and the demo out); deps installs the
# production dependencies; runtime holds node, those dependencies, dist/ and config/, and no package
# manager (npm, npx, corepack and yarn are removed). test/production/production-install.test.ts
# runs the same commands outside Docker and scripts/image-smoke.sh builds and runs this file for
# real (keep the three in step: both parse or run it).
#
#   docker build -t psc-gateway --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --read-only --user 1000:1000 -p 8080:8080 -p 9090:9090 \
#     -v $PWD/gateway.yaml:/etc/psc-gateway/gateway.yaml:ro \
#     -e PSC_CLIENT_SECRET=... -e SESSION_SECRET=... psc-gateway
#
# Behind a TLS-intercepting proxy or with a registry mirror, the npm steps take the usual npm
# settings as build arguments: --build-arg NPM_CONFIG_REGISTRY=https://nexus.example/npm/, the
# proxy's corporate CA as PEM text (a CA certificate is public; these stages are not the image):
# --build-arg NPM_CONFIG_CA="$(cat corporate-ca.pem)"
# or NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt (a file of the base image).
# docs/deployment.md, "A corporate CA inside docker build".

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG NPM_CONFIG_REGISTRY
ARG NPM_CONFIG_CAFILE
ARG NPM_CONFIG_CA
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
# Type-checked here, then compiled by scripts/build.mjs (which only strips the types).
RUN npx tsc -p tsconfig.build.json --noEmit && npm run build

FROM ${NODE_IMAGE} AS deps
ARG NPM_CONFIG_REGISTRY
ARG NPM_CONFIG_CAFILE
ARG NPM_CONFIG_CA
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# No package manager at run time: nothing installs anything in a running gateway, and every tool
# left in the image is one more thing for scanners to flag and attackers to use.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* /root/.npm /tmp/*
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="psc-gateway" \
      org.opencontainers.image.description="Authentication gateway for Pro Santé Connect in front of legacy hospital web applications" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/psc-gateway/psc-gateway" \
      org.opencontainers.image.documentation="https://github.com/psc-gateway/psc-gateway/blob/main/docs/helm.md" \
      org.opencontainers.image.base.name="node:24-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config/psc-gateway.schema.json config/gateway.example.yaml ./config/
# The node image's unprivileged user (uid 1000). Nothing is written at run time: the root
# filesystem can be read-only (docker run --read-only, readOnlyRootFilesystem in Kubernetes).
USER 1000:1000
EXPOSE 8080 9090
# The admin listener must listen on 0.0.0.0 (admin.host) for probes from outside the container;
# this check runs inside it. ADMIN_PORT only tells the check where to look.
ENV ADMIN_PORT=9090
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.ADMIN_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM (docker stop, Kubernetes): not ready, 503 for lifecycle.shutdownDelay, requests in flight
# finish within lifecycle.shutdownGrace, exit 0 with "psc-gateway stopped cleanly" in the log.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=16", "dist/cli.js"]
CMD ["serve", "--config", "/etc/psc-gateway/gateway.yaml"]
