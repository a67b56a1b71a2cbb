# ndp-responder as a container: host networking, CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF only,
# non-root. `--cap-add BPF` needs Docker 23.0+ (older engines reject the name; leave it out there
# and the responder answers from the socket instead of the kernel, saying so in one log line).
#
#   docker build -t ndp-responder .
#   docker run -d --name ndp-responder --restart unless-stopped --network host --read-only \
#     --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN --cap-add BPF \
#     --group-add "$(stat -c %g /var/run/docker.sock)" -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     ndp-responder run --interface eth0 --docker --metrics-listen 127.0.0.1:9100
#
# See docs/install.md. No compiler anywhere: the addon is the committed prebuilt (prebuilds/).
#
# BASE is the image both stages start from: a Debian-like image with node and npm in /usr/local
# and util-linux's setpriv (the official slim Node image by default). The integration test builds
# FROM an image it imports offline and passes an npm cache in the context (see below); every other
# line is the one users build.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
# setcap, for the runtime stage below (the offline test's base image already has it).
RUN command -v setcap >/dev/null || { apt-get update && apt-get install -y --no-install-recommends libcap2-bin; }
WORKDIR /build
COPY package.json package-lock.json ./
# .npm-offline-cache/ (its contents, i.e. _cacache/) lands in /tmp/npm-cache when the context has
# it, which only the offline test's does; the glob then matches nothing and npm ci fetches from the
# registry. Either way npm ci checks every package against the lockfile's integrity hashes.
COPY package.json .npm-offline-cach[e] /tmp/npm-cache/
RUN npm ci --cache /tmp/npm-cache --prefer-offline --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --cache /tmp/npm-cache --prefer-offline --ignore-scripts --no-audit --no-fund

FROM ${BASE}
RUN echo 'ndp-responder:x:10001:10001:ndp-responder:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'ndp-responder:x:10001:' >> /etc/group
# A copy of setpriv with file capabilities cap_net_raw,cap_net_admin,cap_bpf+p (permitted, not
# effective): contrib/docker/entrypoint.sh uses it to hand those the container was given to node
# as ambient capabilities (the kernel caps them by the bounding set, i.e. by --cap-add). Set here,
# not copied from the build stage: the classic builder's COPY --from drops the xattr that holds them.
# (setcap needs libcap2, which Debian slim images carry: apt -> libsystemd0 -> libcap2.)
COPY --from=build /usr/sbin/setcap /tmp/setcap
RUN mkdir -p /usr/local/libexec && cp /usr/bin/setpriv /usr/local/libexec/ndp-setpriv \
 && /tmp/setcap cap_net_raw,cap_net_admin,cap_bpf+p /usr/local/libexec/ndp-setpriv && rm /tmp/setcap
WORKDIR /app
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY package.json LICENSE ./
COPY bin/ndp-responder.js ./bin/
COPY prebuilds ./prebuilds
COPY contrib/docker/entrypoint.sh contrib/docker/healthcheck.js ./contrib/docker/
USER 10001:10001
ENTRYPOINT ["/app/contrib/docker/entrypoint.sh"]
CMD ["--help"]
# Healthy while `ndp-responder run` runs and, if it has --metrics-listen, while /metrics reports the
# uplink up and answering (contrib/docker/healthcheck.js).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "/app/contrib/docker/healthcheck.js"]
