# vae serve in a container: Node 20 slim, production dependencies only, the compiled CLI and the
# shipped models (ONNX files and cards; the tfjs checkpoints stay out, see .dockerignore).
#   docker build -t vae-onnx .
#   docker run -p 8080:8080 vae-onnx
# To serve your own models, mount them: docker run -v $PWD/mymodels:/models -p 8080:8080 vae-onnx \
#   node dist/cli/main.js serve --models-dir /models --host 0.0.0.0 --port 8080

# Build stage: compile the TypeScript sources to dist/.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
# .npmrc carries onnxruntime-node-install=skip: the CPU build needs no download. For CUDA, build
# from an image with CUDA 12 and cuDNN 9 and run the install with ONNXRUNTIME_NODE_INSTALL=cuda12.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY models ./models
USER node
EXPOSE 8080
# Orchestrators should probe /readyz (ready after warm-up) and /healthz (alive); Docker's own check:
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec form: node is PID 1 and receives SIGTERM itself, so in-flight requests finish before exit.
CMD ["node", "dist/cli/main.js", "serve", "--models-dir", "models", "--host", "0.0.0.0", "--port", "8080"]
