# fnguard/fnlb: the balancer, as an unprivileged user. Pass its flags as the command, for example
# `-nodes node1:8080,node2:8080 -listen :8081`.
# docker/build-images.sh always sets it: the offline base, or node:<the host's Node major>-bookworm-slim.
ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY dist/docker-deps/node_modules /app/node_modules
COPY package.json /app/package.json
COPY dist/src /app/dist/src
USER 1000:1000
EXPOSE 8081
ENTRYPOINT ["node", "/app/dist/src/lb/main.js"]
