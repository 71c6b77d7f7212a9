# The function images localhost/fnlb-guard/primes, echo, sleep, crash and garble: FUNCTION selects the compiled
# entry under dist/src/functions. The functions need no npm package, only the compiled code. The node
# runs them with stdin/stdout attached (the format) and FN_* in the environment.
# docker/build-images.sh always sets it: the offline base, or node:<the host's Node major>-bookworm-slim.
ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY package.json /app/package.json
COPY dist/src /app/dist/src
ARG FUNCTION=primes
# CMD cannot expand build arguments, ENV can: the entry reads the function's name from it.
ENV FNGUARD_FUNCTION=${FUNCTION}
# The FDK signals readiness on stderr when asked (src/common/readiness.ts): the docker driver then
# measures a start up to the moment the function can take calls.
LABEL fnlb-guard.ready=stderr
USER 1000:1000
ENTRYPOINT ["node", "--input-type=module", "-e", "await import(`/app/dist/src/functions/${process.env.FNGUARD_FUNCTION}.js`)"]
