# sandbox-agent in a container: a static Go build, then a small Debian
# runtime with what coding agents expect to find (git, ripgrep, curl).
#
#   docker build -t sandbox-agent .
#   docker build --build-arg AGENTS="claude codex" -t sandbox-agent .
#   docker run -p 127.0.0.1:2468:2468 -e SANDBOX_AGENT_TOKEN=secret sandbox-agent
#
# AGENTS (space-separated: claude codex opencode amp, or "all") installs
# those agent CLIs at build time, so a session does not wait for the
# download on first use. This file is linted with hadolint in CI; no
# container engine runs there, so the image itself is not built in CI.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/sandbox-agent/sandbox-agent/internal/cli.Version=${VERSION} -X github.com/sandbox-agent/sandbox-agent/internal/cli.Commit=${COMMIT} -X github.com/sandbox-agent/sandbox-agent/internal/cli.Date=${DATE}" \
      -o /out/sandbox-agent ./cmd/sandbox-agent

FROM debian:bookworm-slim
# Package versions are not pinned: the image should get the suite's
# security updates whenever it is rebuilt (see .hadolint.yaml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl git ripgrep procps \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 --user-group --shell /bin/bash agent
COPY --from=build /out/sandbox-agent /usr/local/bin/sandbox-agent

# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
WORKDIR /home/agent/workspace
ARG AGENTS=""
# Agents land in ~/.local/share/sandbox-agent/bin of the agent user.
RUN for agent in ${AGENTS}; do sandbox-agent install-agent "${agent}" || exit 1; done

EXPOSE 2468
# /v1/health needs no token. Docker reads exit 1 as unhealthy (curl's own
# codes are "reserved"), hence the sh -c.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD ["sh", "-c", "curl -fsS http://127.0.0.1:2468/v1/health || exit 1"]
ENTRYPOINT ["sandbox-agent"]
# The server refuses to start without SANDBOX_AGENT_TOKEN (or --no-token).
CMD ["server", "--host", "0.0.0.0", "--port", "2468"]
