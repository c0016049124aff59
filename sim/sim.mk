# sim/sim.mk — the SIMULATED NVIDIA libraries (included by the top Makefile).
#
#   $(BUILD)/sim/libnvidia-ml-sim.so    NVML ABI, N simulated confidential GPUs
#   $(BUILD)/sim/libnvidia-nscq-sim.so  NSCQ ABI, M simulated NVSwitches
#   $(BUILD)/sim/libnvidia-ml.so.1, libnvidia-nscq.so.2   symlinks with the real
#       names, for clients that dlopen by soname through LD_LIBRARY_PATH
#   $(BUILD)/tests/sim/test_sim         their test (picked up by tests/run-all.sh)
#
# The libraries are built with hidden visibility so only the NVML/NSCQ
# symbols are exported. Under SAN=1 they are built with the sanitizers and
# leave the runtime to the (sanitized) executable that dlopens them.

SIM_CORE_SRC := sim/sim_core.c
SIM_DEPS     := sim/sim_core.h $(SIM_CORE_SRC) src/collect/nvml_abi.h src/collect/nscq_abi.h $(FLAGS)
SIM_LIBDIR   := $(BUILD)/sim
SIM_NVML     := $(SIM_LIBDIR)/libnvidia-ml-sim.so
SIM_NSCQ     := $(SIM_LIBDIR)/libnvidia-nscq-sim.so
SIM_TEST     := $(BUILD)/tests/sim/test_sim
# Without sanitizers, refuse undefined symbols at link time; with them the
# runtime's symbols come from the executable, so the check cannot apply.
SIM_LDFLAGS  := -shared $(LDSAN) $(LDFLAGS) $(if $(LDSAN),,-Wl,-z,defs)

SIM_NVML_MIN := $(SIM_LIBDIR)/libnvidia-ml-sim-min.so

sim: $(SIM_NVML) $(SIM_NSCQ) $(SIM_NVML_MIN)
tests: $(SIM_TEST)

$(SIM_NVML): sim/nvml_sim.c $(SIM_DEPS)
	@mkdir -p $(dir $@)
	@echo "  SIM     $@"
	@$(CC) $(CFLAGS_ALL) -fvisibility=hidden $(SIM_LDFLAGS) -o $@ sim/nvml_sim.c $(SIM_CORE_SRC) $(LDLIBS_ALL)
	@ln -sf libnvidia-ml-sim.so $(SIM_LIBDIR)/libnvidia-ml.so.1

# The same simulator exporting only the symbols NVIDIA's C++ SDK resolves.
$(SIM_NVML_MIN): sim/nvml_sim.c sim/minimal.map $(SIM_DEPS)
	@mkdir -p $(dir $@)
	@echo "  SIM     $@"
	@$(CC) $(CFLAGS_ALL) -fvisibility=hidden $(SIM_LDFLAGS) -Wl,--version-script=sim/minimal.map \
		-o $@ sim/nvml_sim.c $(SIM_CORE_SRC) $(LDLIBS_ALL)

$(SIM_NSCQ): sim/nscq_sim.c $(SIM_DEPS)
	@mkdir -p $(dir $@)
	@echo "  SIM     $@"
	@$(CC) $(CFLAGS_ALL) -fvisibility=hidden $(SIM_LDFLAGS) -o $@ sim/nscq_sim.c $(SIM_CORE_SRC) $(LDLIBS_ALL)
	@ln -sf libnvidia-nscq-sim.so $(SIM_LIBDIR)/libnvidia-nscq.so.2

$(SIM_TEST): sim/test_sim.c tests/harness.h src/collect/nvml_abi.h src/collect/nscq_abi.h | $(SIM_NVML) $(SIM_NSCQ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS_ALL) -Itests -DSIM_LIBDIR='"$(SIM_LIBDIR)"' -DSIM_BUILD_DIR='"$(BUILD)"' $(LDSAN) $(LDFLAGS) \
		-o $@ sim/test_sim.c $(LDLIBS_ALL) $(XML_LIBS)
