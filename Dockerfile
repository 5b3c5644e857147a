# vae serve in a container: Node 20 slim with the packed packages (vae-onnx and vae-onnx-runtime, as
# npm users get them), onnxruntime-node for the CPU, and the shipped models (their ONNX files and cards).
#   docker build -t vae-onnx .
#   docker run -p 8080:8080 vae-onnx
# To serve your own models, mount them: docker run -v $PWD/mymodels:/models -p 8080:8080 vae-onnx \
#   node node_modules/vae-onnx/dist/cli/main.js serve --models-dir /models --host 0.0.0.0 --port 8080

# Build stage: compile, build the web app, assemble and pack both packages (npm run package).
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm 10 (node:20's) runs install scripts: onnxruntime-node's would fetch CUDA libraries.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md LICENSE ./
COPY src ./src
COPY scripts ./scripts
COPY docs ./docs
COPY models ./models
RUN npm run package -- --out /app/build

# Runtime stage: the toolkit package (it carries the runtime package inside) and onnxruntime-node,
# as the README's install lines say.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /srv
COPY --from=build /app/build/*.tgz /tmp/packages/
# ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's CPU build needs no download. For CUDA, build from
# an image with CUDA 12 and cuDNN 9 and use ONNXRUNTIME_NODE_INSTALL=cuda12 instead.
RUN npm init -y > /dev/null \
  && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund /tmp/packages/vae-onnx-0*.tgz onnxruntime-node@^1.31.1 \
  && rm -rf /tmp/packages && npm cache clean --force
USER node
EXPOSE 8080
# Orchestrators should probe /readyz (ready after warm-up) and /healthz (alive); Docker's own check:
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec form: node is PID 1 and receives SIGTERM itself, so in-flight requests finish before exit.
CMD ["node", "node_modules/vae-onnx/dist/cli/main.js", "serve", "--models-dir", "node_modules/vae-onnx/models", "--host", "0.0.0.0", "--port", "8080"]
