# The Dockerfile equivalent of examples/node.
FROM node:20 AS deps
WORKDIR /app
COPY package.json package-lock.json /app/
RUN --mount=type=cache,id=npm,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund --loglevel=http

FROM node:20 AS image
WORKDIR /app
COPY --from=deps /app/node_modules /app/node_modules
COPY package.json index.js /app/
CMD ["node", "index.js"]
