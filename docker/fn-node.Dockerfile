# fnguard/fn-node: the functions node. It runs as root because it talks to the Docker socket mounted
# into it (FN_DRIVER=docker); its functions run in their own unprivileged containers.
# Build from the repository root after docker/build-images.sh staged dist/ (see .dockerignore).
# docker/build-images.sh always sets it: the offline base, or node:<the host's Node major>-bookworm-slim.
ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY dist/docker-deps/node_modules /app/node_modules
COPY package.json /app/package.json
COPY dist/src /app/dist/src
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/src/node/main.js"]
