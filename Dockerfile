FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY tsconfig.json ./
RUN ./bin/catalog-ingest build-workflows
USER node
# A heap cap keeps a long-running worker's memory flat (V8 otherwise grows its heap with the
# machine's memory); the SDK also sizes its workflow cache from this limit.
ENV NODE_OPTIONS=--max-old-space-size=384
ENTRYPOINT ["/app/bin/catalog-ingest"]
