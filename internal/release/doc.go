// Package release holds the tests of the release artefacts and install.sh:
// they build the binaries with scripts/release.sh (the script behind
// `make release`), check what was built, serve it from a local HTTP server
// and install it with install.sh under dash, as root and as a non-root
// user, then start the installed binary and ask it for /v1/health. They
// also keep the quickstart and deploy guides honest: their TypeScript is
// the type-checked code of examples/deploy, and their links resolve.
//
// By default only the host platform is built, to keep `make test` fast.
// SANDBOX_AGENT_RELEASE_PLATFORMS=all builds and checks all four release
// platforms (or give a list such as "linux/arm64 darwin/arm64").
package release
