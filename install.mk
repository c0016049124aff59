# install.mk — `make install` (included by the top Makefile).
#
#   make install [DESTDIR=/tmp/root] [PREFIX=/usr/local] [BINDIR=...] ...
#   make uninstall (same variables)
#
# Every directory can be set on its own; the defaults follow from PREFIX.
# DESTDIR is prepended to every path written (staged installs, packages);
# the paths recorded inside the files (gpuattest.pc, the systemd units)
# never contain it.

PREFIX         ?= /usr/local
EXEC_PREFIX    ?= $(PREFIX)
BINDIR         ?= $(EXEC_PREFIX)/bin
LIBDIR         ?= $(EXEC_PREFIX)/lib
LIBEXECDIR     ?= $(EXEC_PREFIX)/libexec
INCLUDEDIR     ?= $(PREFIX)/include
DATADIR        ?= $(PREFIX)/share
MANDIR         ?= $(DATADIR)/man
PKGCONFIGDIR   ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR    ?= $(DATADIR)/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# /etc for a system install (PREFIX=/usr), PREFIX/etc otherwise.
SYSCONFDIR     ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR        ?=

INSTALL        ?= install
MAN_PAGES      := $(wildcard man/*.[1-8])
UNITS          := $(wildcard dist/systemd/*.service dist/systemd/*.timer)

# Paths the installed files name, substituted at build time.
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@LINK_PKGS@|$(LINK_PKGS)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

# Rebuilt whenever the install paths change (they are in the recorded flags
# only through this file's own stamp).
INSTALL_STAMP := $(BUILD)/install-paths
INSTALL_NOW   := $(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(BINDIR) $(LIBEXECDIR) $(SYSCONFDIR) $(VERSION) $(LINK_PKGS)
ifneq ($(INSTALL_NOW),$(file <$(INSTALL_STAMP)))
  $(shell mkdir -p $(BUILD))
  $(file >$(INSTALL_STAMP),$(INSTALL_NOW))
endif

$(PUB_PC): dist/gpuattest.pc.in $(INSTALL_STAMP)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@$(SUBST) $< >$@

$(BUILD)/dist/%: dist/systemd/% $(INSTALL_STAMP)
	@mkdir -p $(dir $@)
	@$(SUBST) $< >$@

INSTALLED_UNITS := $(UNITS:dist/systemd/%=$(BUILD)/dist/%)
GATE            := $(BUILD)/dist/gpu-gate
$(GATE): dist/gpu-gate.in $(INSTALL_STAMP)
	@mkdir -p $(dir $@)
	@$(SUBST) $< >$@ && chmod 755 $@
all: $(INSTALLED_UNITS) $(GATE)

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 755 $(CLI) $(DESTDIR)$(BINDIR)/gpuattest
	$(INSTALL) -m 644 $(PUB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(PUB_SO)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libgpuattest.so
	$(INSTALL) -m 644 $(PUB_A) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 include/gpuattest.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 644 $(PUB_PC) $(DESTDIR)$(PKGCONFIGDIR)/
	@set -e; for m in $(MAN_PAGES); do \
		s=$${m##*.}; $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s; \
		echo "$(INSTALL) -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/"; \
		$(INSTALL) -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	@set -e; if [ -f dist/bash-completion/gpuattest ]; then \
		$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR); \
		$(INSTALL) -m 644 dist/bash-completion/gpuattest $(DESTDIR)$(BASHCOMPDIR)/gpuattest; fi
	$(INSTALL) -d $(DESTDIR)$(LIBEXECDIR)/gpuattest $(DESTDIR)$(SYSCONFDIR)/default
	$(INSTALL) -m 755 $(GATE) $(DESTDIR)$(LIBEXECDIR)/gpuattest/gpu-gate
	@# The gate's configuration is the administrator's: never overwritten.
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/gpuattest ] || \
		$(INSTALL) -m 644 dist/gpuattest.default $(DESTDIR)$(SYSCONFDIR)/default/gpuattest
	@set -e; for u in $(INSTALLED_UNITS); do \
		$(INSTALL) -d $(DESTDIR)$(SYSTEMDUNITDIR); \
		$(INSTALL) -m 644 $$u $(DESTDIR)$(SYSTEMDUNITDIR)/; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gpuattest $(DESTDIR)$(LIBDIR)/$(notdir $(PUB_SO)) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libgpuattest.so \
		$(DESTDIR)$(LIBDIR)/libgpuattest.a $(DESTDIR)$(INCLUDEDIR)/gpuattest.h \
		$(DESTDIR)$(PKGCONFIGDIR)/gpuattest.pc $(DESTDIR)$(BASHCOMPDIR)/gpuattest \
		$(DESTDIR)$(LIBEXECDIR)/gpuattest/gpu-gate \
		$(addprefix $(DESTDIR)$(MANDIR)/man,$(foreach m,$(MAN_PAGES),$(subst .,,$(suffix $(m)))/$(notdir $(m)))) \
		$(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(notdir $(UNITS)))
	-rmdir $(DESTDIR)$(LIBEXECDIR)/gpuattest 2>/dev/null
