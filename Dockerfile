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
ENTRYPOINT ["/app/bin/catalog-ingest"]
