# Conveniences; the README's two commands need nothing but Go.
.PHONY: build run test race vet fmt bench ci

build:
	go build -o xtreamd ./cmd/xtreamd

run:
	go run ./cmd/xtreamd serve --demo

test:
	go test ./...

race:
	go test -race ./...

vet:
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	go test -run '^$$' -bench . -benchmem ./...

ci:
	bash .ci/run
