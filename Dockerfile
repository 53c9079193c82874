# Build stage: a static binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" -o /out/xtreamd ./cmd/xtreamd

# Runtime: xtreamd only; PostgreSQL runs in its own container (docker-compose.yml).
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/xtreamd --create-home xtreamd
COPY --from=build /out/xtreamd /usr/local/bin/xtreamd
USER xtreamd
ENV XTREAMD_DATA_DIR=/var/lib/xtreamd
VOLUME ["/var/lib/xtreamd"]
EXPOSE 25461
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD ["xtreamd", "healthcheck"]
ENTRYPOINT ["xtreamd"]
CMD ["serve"]
