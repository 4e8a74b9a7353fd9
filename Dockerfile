# syntax=docker/dockerfile:1
# greenlake-proxy container image (BuildKit, the default builder since Docker 23).
#   docker build -t greenlake-proxy:0.1.0 .
#   docker run --rm -p 127.0.0.1:8080:8080 -e GREENLAKE_CLIENT_ID -e GREENLAKE_CLIENT_SECRET greenlake-proxy:0.1.0 --allow-unauthenticated
# Listens on 0.0.0.0:8080 inside the container: publish the port on the host's loopback
# (as above), or configure inbound API keys for a shared gateway (see README).
#
# Behind a TLS-inspecting corporate proxy, `npm ci` must trust the proxy's CA. Pass it as a
# build secret: it is mounted for the `npm ci` step only and is in no layer of the image.
#   docker build --secret id=npm_ca,src=/path/to/corporate-ca.pem -t greenlake-proxy:0.1.0 .
# (The running proxy trusts extra CAs through caFile or NODE_EXTRA_CA_CERTS: see README.)

# Stage 1: production dependencies only, from the lockfile.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the runtime. The TypeScript sources run directly on Node 24 (type stripping).
FROM node:24-slim
# NODE_OPTIONS: V8's young generation capped at 16 MiB per semi-space (V8's own cap is 32):
# about 60 MiB less peak memory under load at no measurable throughput cost (test/bench/README.md,
# Results). A deployment's own NODE_OPTIONS replaces it (the sidecar manifest sets 4).
# The ENTRYPOINT's --no-memory-reducer (Node refuses it in NODE_OPTIONS) keeps the request
# path as fast after a quiet spell as before it; see src/cli/main.js. A deployment that would
# rather give memory back when idle runs `node src/cli/main.js` as its command (the sidecar
# manifest does).
# GREENLAKE_PROXY_HOST/_PORT make a zero-config `docker run` reachable through -p. Like any
# environment, they win over a mounted config file's `listen`: where they replace a different
# value the proxy logs a warning naming the variable, and a refusal names it too.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16 \
    GREENLAKE_PROXY_HOST=0.0.0.0 \
    GREENLAKE_PROXY_PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY config/greenlake-proxy.example.yaml ./config/
RUN mkdir -p node_modules/.cache/node-compile-cache && chown 1000:1000 node_modules/.cache/node-compile-cache
# The image's built-in non-root user `node`, by number: Kubernetes' runAsNonRoot can only
# verify a numeric user. Nothing is written to disk, so the root filesystem can be mounted
# read-only.
USER 1000:1000
# Node's compile cache (src/cli/main.js), filled once here by loading everything `serve` runs:
# starts skip the TypeScript stripper (about 30 MiB less memory) and recompiling. Node keys the
# cache by user, so this runs as the user the image runs as; under another uid the proxy
# works the same, only without the cache.
RUN NODE_COMPILE_CACHE=node_modules/.cache/node-compile-cache node --input-type=module -e "await import('./src/cli/run.ts'); await import('./src/cli/serve.ts'); await import('./src/cli/health.ts')"
EXPOSE 8080
STOPSIGNAL SIGTERM
# Asks the proxy itself: the listeners its config file, environment and arguments (read from
# /proc) give it, https for a TLS listener, and the admin listener when there is one.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "src/cli/healthcheck.js"]
ENTRYPOINT ["node", "--no-memory-reducer", "src/cli/main.js"]
CMD ["serve"]
