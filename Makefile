# The two quick-start commands (see README.md). Each installs what a fresh
# Debian machine with Swift lacks, then calls swift.
SWIFT ?= swift
DEBS := libnl-3-dev libnl-route-3-dev libyaml-dev pkg-config iproute2 nftables libnftables-dev libnftnl-dev libmnl-dev

.PHONY: deps build conformance test docs fuzz
deps:
	@if ! pkg-config --exists libnl-route-3.0 yaml-0.1 libnftables 2>/dev/null || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(DEBS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null; \
	  else \
	    echo "missing: $(DEBS); run 'sudo apt-get install -y $(DEBS)' (or run make as root)" >&2; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

# The kit's main job: the conformance suite over every built-in Source on
# the simulated kernel (no root needed).
conformance: deps
	$(SWIFT) run linx conformance

# The whole test suite. Real-kernel tests run when root, skip (and say why) otherwise.
test: deps
	$(SWIFT) test

# The DocC catalogs of every library module, as one combined archive
# (.build/plugins/Swift-DocC/outputs/Linx.doccarchive); a warning (an
# unresolved symbol link, an undocumented parameter) fails it. CI runs it.
DOC_TARGETS := LinxReconcile LinxKernelSim LinxConformance LinxConformanceKernel LinxLinux LinxFidelity LinxHost LinxTestSupport
docs: deps
	$(SWIFT) package generate-documentation $(foreach t,$(DOC_TARGETS),--target $(t)) \
	  --enable-experimental-combined-documentation --warnings-as-errors

fuzz: deps
	$(SWIFT) run -c release linx fuzz
