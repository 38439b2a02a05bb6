# The hub's one image: compiles the TypeScript once; every process (gateway by default, the rest chosen by docker-compose.yml) runs from it.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# Offline by default: no Apollo telemetry from any process (see ARCHITECTURE.md).
ENV NODE_ENV=production \
    APOLLO_TELEMETRY_DISABLED=1
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# The SDL and the composed supergraph are read at run time from <root>/schema, next to dist/.
COPY --from=build /app/schema/*.graphql ./schema/
# The OCDS extension the gateway serves at /ocds/extension/ (gateway/archives.ts).
COPY --from=build /app/schema/ocds-extension ./schema/ocds-extension
COPY --from=build /app/gateway/board ./gateway/board
# The code stays owned by root, so the processes cannot rewrite it.
USER node
EXPOSE 4000
CMD ["node", "dist/gateway/main.js"]
