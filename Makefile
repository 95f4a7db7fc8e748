# Every entry point of the project; `make help` lists them.

SHELL := /bin/bash
BUILD ?= $(CURDIR)/build
export BUILD

# Guest backend (uml|qemu) and kernel flavour (debug|bench). The demo
# measures bandwidth, so it runs the bench kernel unless told otherwise.
# BASE (6.12|7.3): the kernel source the guest kernel is built from
# (kernel/base.sh); make kernel and make shell take it.
BACKEND ?= uml
FLAVOR ?= debug
BASE ?= 6.12
DEMO_FLAVOR ?= bench
TIMEOUT ?= 1800

KARCH = $(if $(filter qemu,$(BACKEND)),x86_64,um)

# kbuild cannot build in a directory whose path has a space, and the guest
# kernels' command line cannot carry a colon or a comma in a path: refuse
# before anything is built.
comma := ,
ifneq ($(words $(subst :, ,$(subst $(comma), ,$(CURDIR) $(BUILD)))),2)
$(error the checkout ($(CURDIR)) or BUILD ($(BUILD)) is at a path with a space, a colon or a comma: the kernel cannot be built there; use a path without them)
endif

.PHONY: help deps kernel userspace rdma-core perftest test demo shell bench bench-odp-qps \
	series series-check stress clean distclean \
	host-modules host-install host-uninstall

help:
	@echo "make test      build everything and run every test suite"
	@echo "make demo      the main job: bandwidth over rxe in a UML guest, data verified"
	@echo "make shell     interactive guest with rxe0 up (CMD='...' runs one command)"
	@echo "make stress    the stress suites for longer (STRESS_SECONDS=N per run, default 120)"
	@echo "make bench     bandwidth of pinned, ODP and dma-buf MRs side by side (bench kernel;"
	@echo "               BACKEND=qemu BENCH_KERNEL=distro: Debian's stock kernel)"
	@echo "make bench-odp-qps  several QPs on one ODP MR, 6.12's copy path against"
	@echo "               upstream's (7.3), in QEMU SMP guests; ratios to pinned"
	@echo "make series    write kernel/rdma-core/perftest changes as patch series to build/series"
	@echo "make series-check  build every prefix of the kernel series (6.12 and 7.3), checkpatch each"
	@echo "make kernel    build one guest kernel (BACKEND=uml|qemu FLAVOR=debug|bench;"
	@echo "               BACKEND=qemu FLAVOR=distro: Debian's stock 6.12 with our modules;"
	@echo "               BASE=7.3: from linux-source-7.3 and kernel/7.3/patches)"
	@echo "make userspace build the patched rdma-core and perftest"
	@echo "make deps      apt-get install what the project needs (as root)"
	@echo "make host-modules  rdma_rxe.ko and the test exporter for a 6.12 distribution"
	@echo "               kernel (KERNELRELEASE=KR, default uname -r; KDIR=its headers)"
	@echo "make host-install  build them, install into /lib/modules/KR/updates (as root)"
	@echo "make host-uninstall  remove them again (KERNELRELEASE=KR)"

deps:
	@scripts/install-deps.sh

kernel: deps
	@scripts/check-choice.sh BACKEND "$(BACKEND)" uml qemu
	@scripts/check-choice.sh FLAVOR "$(FLAVOR)" debug bench distro
	@scripts/check-choice.sh BASE "$(BASE)" 6.12 7.3
ifeq ($(FLAVOR),distro)
	@[ "$(BACKEND)" = qemu ] || { echo "make: FLAVOR=distro is Debian's x86_64 kernel: use BACKEND=qemu" >&2; exit 2; }
	@[ "$(BASE)" = 6.12 ] || { echo "make: FLAVOR=distro is Debian's 6.12 kernel: it has no BASE=$(BASE)" >&2; exit 2; }
	@kernel/distro/build.sh
else
	@BASE=$(BASE) kernel/build.sh $(KARCH) $(FLAVOR)
endif

rdma-core: deps
	@scripts/build-userspace.sh rdma-core

perftest: rdma-core
	@scripts/build-userspace.sh perftest

userspace: rdma-core perftest

test: deps
	@tests/run

stress: deps
	@tests/stress/run

demo: deps userspace
	@$(MAKE) --no-print-directory kernel BACKEND=uml FLAVOR=$(DEMO_FLAVOR)
	@FLAVOR=$(DEMO_FLAVOR) tests/demo.sh

# CMD reaches the guest's bash as written: through the environment, not
# the recipe's text, so that its quotes and $ are the shell's, not make's.
shell: export RDG_SHELL_CMD := $(value CMD)
shell: deps userspace kernel
	@if [ -n "$$RDG_SHELL_CMD" ]; then \
		kernel/run-guest.sh --backend $(BACKEND) --flavor $(FLAVOR) \
			--base $(BASE) --timeout $(TIMEOUT) -- bash -c "$$RDG_SHELL_CMD"; \
	else \
		kernel/run-guest.sh --backend $(BACKEND) --flavor $(FLAVOR) \
			--base $(BASE) --timeout $(TIMEOUT) --interactive; \
	fi

bench: deps userspace
	@$(if $(BENCH_KERNEL),scripts/check-choice.sh BENCH_KERNEL "$(BENCH_KERNEL)" bench distro)
	@$(MAKE) --no-print-directory kernel BACKEND=$(BACKEND) \
		FLAVOR=$(if $(filter distro,$(BENCH_KERNEL)),distro,bench)
	@$(MAKE) --no-print-directory -C tests/bench
	@tests/bench/run.sh

# Checked before the two kernels are built, so a bad knob costs nothing.
bench-odp-qps: deps userspace
	@BENCH_CHECK_ONLY=1 tests/bench/odp-qps.sh
	@$(MAKE) --no-print-directory kernel BACKEND=qemu FLAVOR=bench BASE=6.12
	@$(MAKE) --no-print-directory kernel BACKEND=qemu FLAVOR=bench BASE=7.3
	@tests/bench/odp-qps.sh

series: deps
	@scripts/make-series.sh

series-check: series
	@$(MAKE) --no-print-directory kernel BACKEND=uml FLAVOR=debug
	@scripts/check-series.sh
	@SERIES_BASE=7.3 scripts/check-series.sh

# The patched rxe for the host's own kernel, built against its headers.
HOST_MODULES_ARGS = $(if $(KDIR),--kdir '$(KDIR)') \
	$(if $(KERNELRELEASE),--release '$(KERNELRELEASE)')

host-modules: deps
	@scripts/host-modules.sh $(HOST_MODULES_ARGS)

host-install: deps
	@scripts/host-install.sh install $(HOST_MODULES_ARGS)

host-uninstall:
	@scripts/host-install.sh uninstall $(if $(KERNELRELEASE),--release '$(KERNELRELEASE)')

clean:
	rm -rf $(BUILD)/results $(BUILD)/kernel $(BUILD)/rdma-core $(BUILD)/perftest

distclean:
	rm -rf $(BUILD)
