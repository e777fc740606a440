# psc-gateway container image. Two stages: build compiles TypeScript; runtime holds production
# dependencies, dist/ and config/ only. test/production/production-install.test.ts runs the same
# runtime commands outside Docker (keep the two in step: the test parses this file).
#
#   docker build -t psc-gateway .
#   docker run --read-only -p 8080:8080 -p 9090:9090 \
#     -v $PWD/gateway.yaml:/etc/psc-gateway/gateway.yaml:ro \
#     -e PSC_CLIENT_SECRET=... -e SESSION_SECRET=... psc-gateway

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
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
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve", "--config", "/etc/psc-gateway/gateway.yaml"]
