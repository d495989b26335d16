# Slotwise server image. Three stages share one pnpm store: `build` installs everything (the server's
# postinstall runs `prisma generate` into src/generated), `prod` installs production dependencies only,
# and the final image takes `prod` plus the generated client and runs the server as the unprivileged `node` user.
FROM node:20-bookworm-slim AS base
# corepack keeps pnpm outside any home directory, so the non-root user runs it without a download.
ENV COREPACK_HOME=/opt/corepack \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    PNPM_HOME=/opt/pnpm \
    CI=true
ENV PATH=$PNPM_HOME:$PATH
RUN corepack enable \
 && corepack prepare pnpm@10.34.9 --activate \
 && chmod -R a+rX $COREPACK_HOME
WORKDIR /app

# Downloads every package named in the lockfile; the installs below then run offline.
FROM base AS fetched
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
# The lockfile's patched dependencies (patches/README.md) are applied from here.
COPY patches ./patches
RUN pnpm fetch

FROM fetched AS build
COPY . .
RUN pnpm install --frozen-lockfile --offline \
 && pnpm --filter @slotwise/widget build

FROM fetched AS prod
COPY . .
# No scripts: the only one that matters (prisma generate) needs dev dependencies and ran in `build`.
RUN pnpm install --frozen-lockfile --offline --prod --ignore-scripts

FROM base AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    DATA_DIR=/data \
    npm_config_update_notifier=false
COPY --from=prod /app /app
COPY --from=build /app/packages/server/src/generated /app/packages/server/src/generated
# The widget bundle the server serves at /widget.js.
COPY --from=build /app/packages/widget/dist /app/packages/widget/dist
# Without DATABASE_URL the server keeps its embedded database (and generated secrets) in DATA_DIR.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 4000
VOLUME ["/data"]
# What `pnpm start` runs, but with node as PID 1: pnpm does not pass SIGTERM on, so `docker stop`
# would kill the server without its graceful shutdown. A 64 MB semi-space (young generation) makes
# garbage collection under many concurrent reads cheaper (docs/performance.md).
WORKDIR /app/packages/server
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "src/main.ts"]
