# trek in a container: the image `trek k8s` manifests run (docs/distributed.md).
#   docker build -t registry.example.com/trek:0.1.0 .
#   docker run --rm registry.example.com/trek:0.1.0 --version
#
# Stage 1 builds the release binary; stage 2 is a slim Debian with only the
# binary, the CA certificates https targets are checked against, and a
# user that is not root.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin trek \
    && strip target/release/trek

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin trek
COPY --from=build /src/target/release/trek /usr/local/bin/trek
# A numeric user, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
WORKDIR /trek
ENTRYPOINT ["trek"]
CMD ["--help"]
