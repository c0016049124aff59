/*
 * The Protected PCIe topology rules (topology.c, docs §9.4) in process, on
 * hand-built device results: what the simulator cannot produce (a switch
 * whose DEVICE_PDI is not its certificate's, a PDI shared by a GPU and a
 * switch, unused all-zero slots, a switch that did not prove itself, GPUs
 * or switches alone, the offline and live PPCIe hints) and the exact
 * device + PDI every failure must name.
 *
 * Owns: its own in-memory appraisals. Never parses or signs anything: the
 * fields topology_evaluate reads are set directly, as appraise_evidence
 * would have set them for verified evidence.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "appraise/appraise.h"

#define MAXDEV 16

/* PDI of device `id`: eight distinct bytes, never all zero. */
static void make_pdi(uint8_t out[GPA_PDI_LEN], unsigned id)
{
	for (unsigned i = 0; i < GPA_PDI_LEN; i++)
		out[i] = (uint8_t)(0x11 * (i + 1) ^ (id * 0x3B + 7));
}

static void pdi_str(unsigned id, char out[2 * GPA_PDI_LEN + 1])
{
	uint8_t p[GPA_PDI_LEN];

	make_pdi(p, id);
	hex_encode_upper(p, GPA_PDI_LEN, out);
}

/* A system of ngpus GPUs (PDI ids 0..) and nsw switches (PDI ids 100..),
 * every one verified and wired to every other as it should be. */
static struct gpa_appraisal *make_system(int ngpus, int nsw)
{
	struct gpa_appraisal *a = calloc(1, sizeof(*a));
	struct gpa_device_result *d;

	if (a == NULL || (a->dev = calloc(MAXDEV, sizeof(*a->dev))) == NULL) {
		free(a);
		return NULL;
	}
	a->n = (size_t)(ngpus + nsw);
	for (int i = 0; i < ngpus + nsw; i++) {
		bool gpu = i < ngpus;
		int k = gpu ? i : i - ngpus;

		d = &a->dev[i];
		d->kind = gpu ? GPA_DEV_GPU : GPA_DEV_SWITCH;
		d->index = k;
		snprintf(d->label, sizeof(d->label), "%s %d", gpu ? "GPU" : "NVSwitch", k);
		d->parsed = d->sig_verified = d->has_pdi = true;
		d->dev_chain.status = GPA_CERT_VALID;
		d->tnvl = -1;
		make_pdi(d->pdi, gpu ? (unsigned)k : 100u + (unsigned)k);
		d->info.ppcie_status = gpu ? 0xAA : -1;
		d->info.feature_flag = gpu ? 2 : -1;
		d->info.lock_status = gpu ? -1 : 1;
		if (gpu) {
			/* 18 NVLink slots, switches repeated, the last two unused. */
			d->info.npdis = 18;
			for (int s = 0; s < 16 && nsw > 0; s++)
				make_pdi(d->info.pdis[s], 100u + (unsigned)(s % nsw));
		} else {
			d->info.has_device_pdi = true;
			memcpy(d->info.device_pdi, d->pdi, GPA_PDI_LEN);
			d->info.ngpu_pdis = 8;
			for (int g = 0; g < ngpus && g < 8; g++)
				make_pdi(d->info.gpu_pdis[g], (unsigned)g);
		}
	}
	return a;
}

static void free_system(struct gpa_appraisal *a)
{
	if (a != NULL)
		free(a->dev);
	free(a);
}

static struct gpa_device_result *gpu_dev(struct gpa_appraisal *a, int i)
{
	return &a->dev[i];
}

/* Switches come after the GPUs. */
static struct gpa_device_result *sw_dev(struct gpa_appraisal *a, int ngpus, int i)
{
	return &a->dev[ngpus + i];
}

static int count_outcome(const struct gpa_appraisal *a, enum gpa_outcome o)
{
	int n = 0;

	for (int i = 0; i < a->nsys_checks; i++)
		n += a->sys_checks[i].outcome == o;
	return n;
}

/* The detail of the first system check with this outcome that contains
 * every needle (NULL-terminated), or NULL. */
static const char *find_check(const struct gpa_appraisal *a, enum gpa_outcome o, const char *n1, const char *n2)
{
	for (int i = 0; i < a->nsys_checks; i++) {
		const struct gpa_check *c = &a->sys_checks[i];
		if (c->outcome == o && strcmp(c->id, "topology") == 0 && strstr(c->detail, n1) != NULL &&
		    (n2 == NULL || strstr(c->detail, n2) != NULL))
			return c->detail;
	}
	return NULL;
}

static void dump(const struct gpa_appraisal *a)
{
	for (int i = 0; i < a->nsys_checks; i++)
		fprintf(stderr, "    [%s] %s\n", outcome_name(a->sys_checks[i].outcome), a->sys_checks[i].detail);
}

/* Fails the current test unless a topology check with outcome o contains
 * n1 (and n2 when not NULL); prints every system check when it does not. */
static void expect_check(const struct gpa_appraisal *a, enum gpa_outcome o, const char *n1, const char *n2,
    int line)
{
	if (find_check(a, o, n1, n2) != NULL)
		return;
	fprintf(stderr, "FAIL %s (%s:%d): no %s topology check with \"%s\"%s%s%s; checks:\n", h_cur, __FILE__,
	    line, outcome_name(o), n1, n2 ? " and \"" : "", n2 ? n2 : "", n2 ? "\"" : "");
	dump(a);
	h_cur_failed = 1;
}
#define EXPECT(a, o, n1, n2) expect_check((a), (o), (n1), (n2), __LINE__)

static void test_exact_wiring_passes(void)
{
	struct gpa_appraisal *a = make_system(8, 4);

	CHECK(a != NULL);
	if (a == NULL)
		return;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_PASS, "8 GPU(s) and 4 NVSwitch(es) name each other exactly", NULL);
	CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 0);
	CHECK_INT(a->nsys_checks, 1);
	free_system(a);

	/* Fewer GPUs than a switch's 8 slots: the unused slots are zero. */
	a = make_system(2, 1);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_PASS, "2 GPU(s) and 1 NVSwitch(es)", NULL);
	CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 0);
	free_system(a);
}

static void test_gpu_names_unattested_switch(void)
{
	struct gpa_appraisal *a = make_system(4, 2);
	char want[17];

	make_pdi(gpu_dev(a, 2)->info.pdis[5], 777);
	pdi_str(777, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "GPU 2 is connected to NVSwitch PDI ", want);
	CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 1);
	CHECK_INT(count_outcome(a, GPA_CHECK_PASS), 0);
	free_system(a);
}

static void test_gpu_misses_switch(void)
{
	struct gpa_appraisal *a = make_system(4, 2);
	char want[17];

	/* GPU 3 lists only switch 0 (and zeros). */
	memset(gpu_dev(a, 3)->info.pdis, 0, sizeof(gpu_dev(a, 3)->info.pdis));
	make_pdi(gpu_dev(a, 3)->info.pdis[0], 100);
	pdi_str(101, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "GPU 3 is not connected to NVSwitch 1 (PDI ", want);
	CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 1);
	free_system(a);
}

static void test_switch_names_unattested_gpu(void)
{
	struct gpa_appraisal *a = make_system(4, 2);
	char want[17];

	make_pdi(sw_dev(a, 4, 1)->info.gpu_pdis[6], 555);
	pdi_str(555, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 1 is connected to GPU PDI ", want);
	free_system(a);
}

static void test_switch_misses_gpu(void)
{
	struct gpa_appraisal *a = make_system(4, 2);
	char want[17];

	memset(sw_dev(a, 4, 0)->info.gpu_pdis[2], 0, GPA_PDI_LEN);
	pdi_str(2, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 0 is not connected to GPU 2 (PDI ", want);
	CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 1);
	free_system(a);
}

static void test_switch_device_pdi(void)
{
	struct gpa_appraisal *a = make_system(2, 2);
	char want[17];

	/* The report says it is another switch than its certificate does. */
	make_pdi(sw_dev(a, 2, 1)->info.device_pdi, 100);
	pdi_str(101, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 1: its report's DEVICE_PDI is not the PDI ", want);
	CHECK_INT(count_outcome(a, GPA_CHECK_PASS), 0);
	free_system(a);

	a = make_system(2, 2);
	sw_dev(a, 2, 0)->info.has_device_pdi = false;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 0: its report's DEVICE_PDI is not the PDI", NULL);
	free_system(a);
}

static void test_lock(void)
{
	struct gpa_appraisal *a = make_system(2, 2);
	char want[17];

	sw_dev(a, 2, 1)->info.lock_status = 0;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 1 is not locked", NULL);
	CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 1);
	/* Which physical switch: its PDI, not only its enumeration index. */
	pdi_str(101, want);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 1 is not locked", want);
	free_system(a);

	/* Absent from the report (-1) is not "locked" either. */
	a = make_system(2, 2);
	sw_dev(a, 2, 0)->info.lock_status = -1;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 0 is not locked", NULL);
	free_system(a);
}

static void test_tnvl_mode(void)
{
	static const struct {
		int tnvl;
		bool ok;
	} cases[] = { { -1, true }, { 3, true }, { 7, true }, { 0, false }, { 1, false }, { 2, false } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gpa_appraisal *a = make_system(2, 2);
		sw_dev(a, 2, 1)->tnvl = cases[i].tnvl;
		topology_evaluate(a);
		if (cases[i].ok) {
			CHECK_INT(count_outcome(a, GPA_CHECK_FAIL), 0);
		} else {
			EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 1: the driver reports TNVL mode", "not enabled and locked");
		}
		free_system(a);
	}
}

static void test_duplicate_pdis(void)
{
	struct gpa_appraisal *a = make_system(2, 3);
	char want[17];

	/* Switch 2 presents switch 0's identity. */
	memcpy(sw_dev(a, 2, 2)->pdi, sw_dev(a, 2, 0)->pdi, GPA_PDI_LEN);
	memcpy(sw_dev(a, 2, 2)->info.device_pdi, sw_dev(a, 2, 0)->pdi, GPA_PDI_LEN);
	pdi_str(100, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "NVSwitch 0 and NVSwitch 2 have the same PDI ", want);
	CHECK_INT(count_outcome(a, GPA_CHECK_PASS), 0);
	free_system(a);

	a = make_system(3, 1);
	memcpy(gpu_dev(a, 2)->pdi, gpu_dev(a, 1)->pdi, GPA_PDI_LEN);
	pdi_str(1, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "GPU 1 and GPU 2 have the same PDI ", want);
	free_system(a);
}

/* "No PDI appears on two devices" holds across kinds too: a GPU whose
 * certificate names a switch's PDI is not two devices. */
static void test_gpu_and_switch_share_pdi(void)
{
	struct gpa_appraisal *a = make_system(2, 2);
	char want[17];

	/* GPU 1 claims switch 1's PDI; every list is made consistent with it. */
	make_pdi(gpu_dev(a, 1)->pdi, 101);
	for (int s = 0; s < 2; s++)
		make_pdi(sw_dev(a, 2, s)->info.gpu_pdis[1], 101);
	pdi_str(101, want);
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "have the same PDI ", want);
	CHECK_INT(count_outcome(a, GPA_CHECK_PASS), 0);
	free_system(a);
}

/* A device that did not prove itself is not in the topology: the others
 * must not be satisfied by its claims. */
static void test_unverified_device_not_counted(void)
{
	static const int how[] = { 0, 1, 2, 3 };

	for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		struct gpa_appraisal *a = make_system(2, 2);
		struct gpa_device_result *w = sw_dev(a, 2, 1);
		char want[17];

		switch (how[i]) {
		case 0: w->sig_verified = false; break;
		case 1: w->parsed = false; break;
		case 2: w->has_pdi = false; break;
		case 3: w->dev_chain.status = GPA_CERT_INVALID; break;
		}
		pdi_str(101, want);
		topology_evaluate(a);
		EXPECT(a, GPA_CHECK_FAIL, "GPU 0 is connected to NVSwitch PDI ", want);
		CHECK_INT(count_outcome(a, GPA_CHECK_PASS), 0);
		free_system(a);
	}
}

static void test_no_usable_gpu(void)
{
	struct gpa_appraisal *a = make_system(2, 2);

	gpu_dev(a, 0)->sig_verified = false;
	gpu_dev(a, 1)->sig_verified = false;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_FAIL, "no GPU could be placed in the NVLink topology", NULL);
	CHECK_INT(count_outcome(a, GPA_CHECK_PASS), 0);
	free_system(a);
}

static void test_switches_alone(void)
{
	struct gpa_appraisal *a = make_system(0, 4);

	topology_evaluate(a);
	CHECK_INT(a->nsys_checks, 1);
	CHECK_INT(count_outcome(a, GPA_CHECK_SKIPPED), 1);
	EXPECT(a, GPA_CHECK_SKIPPED, "NVSwitches verified alone", NULL);
	free_system(a);

	/* Live, switches without GPUs cannot be "verified alone". */
	a = make_system(0, 2);
	a->sys.present = true;
	a->sys.multi_gpu_mode = 1;
	topology_evaluate(a);
	CHECK_INT(count_outcome(a, GPA_CHECK_SKIPPED), 0);
	EXPECT(a, GPA_CHECK_FAIL, "no GPU could be placed", NULL);
	free_system(a);
}

static void test_ppcie_gpus_without_switches(void)
{
	struct gpa_appraisal *a = make_system(4, 0);

	/* Offline: the GPUs' own reports say PPCIe; the hint names the option. */
	topology_evaluate(a);
	CHECK_INT(a->nsys_checks, 1);
	EXPECT(a, GPA_CHECK_NOT_DONE, "must be attested with them", "--switch-evidence");
	free_system(a);

	/* Only the feature flag says it. */
	a = make_system(1, 0);
	gpu_dev(a, 0)->info.ppcie_status = 0x55;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_NOT_DONE, "Protected PCIe mode", NULL);
	free_system(a);

	/* Live: the driver's mode decides; no command-line hint. */
	a = make_system(2, 0);
	a->sys.present = true;
	a->sys.multi_gpu_mode = 1;
	topology_evaluate(a);
	EXPECT(a, GPA_CHECK_NOT_DONE, "must be attested with them", NULL);
	CHECK(find_check(a, GPA_CHECK_NOT_DONE, "--switch-evidence", NULL) == NULL);
	free_system(a);

	/* CC mode GPUs (not PPCIe) alone: no topology check at all. */
	a = make_system(2, 0);
	for (int i = 0; i < 2; i++) {
		gpu_dev(a, i)->info.ppcie_status = 0x55;
		gpu_dev(a, i)->info.feature_flag = 0;
	}
	topology_evaluate(a);
	CHECK_INT(a->nsys_checks, 0);
	free_system(a);

	/* Live CC mode: the reports' flags do not override the driver. */
	a = make_system(2, 0);
	a->sys.present = true;
	a->sys.multi_gpu_mode = 0;
	topology_evaluate(a);
	CHECK_INT(a->nsys_checks, 0);
	free_system(a);
}

/* Every failure must leave room for the checks that follow it (CPU, CC
 * mode, developer tools...): a badly wired system of 8 GPUs and 4 switches
 * must not use up the system checks. */
static void test_failures_leave_room(void)
{
	struct gpa_appraisal *a = make_system(8, 4);

	for (int g = 0; g < 8; g++) {
		memset(gpu_dev(a, g)->info.pdis, 0, sizeof(gpu_dev(a, g)->info.pdis));
		make_pdi(gpu_dev(a, g)->info.pdis[0], 900u + (unsigned)g);
	}
	for (int s = 0; s < 4; s++)
		sw_dev(a, 8, s)->info.lock_status = 0;
	topology_evaluate(a);
	CHECK(count_outcome(a, GPA_CHECK_FAIL) > 0);
	appraisal_sys_add(a, "dev-tools", GPA_CHECK_FAIL, "developer tools mode is on");
	CHECK(a->nsys_checks > 0 && strcmp(a->sys_checks[a->nsys_checks - 1].id, "dev-tools") == 0);
	free_system(a);
}

int main(void)
{
	RUN(test_exact_wiring_passes);
	RUN(test_gpu_names_unattested_switch);
	RUN(test_gpu_misses_switch);
	RUN(test_switch_names_unattested_gpu);
	RUN(test_switch_misses_gpu);
	RUN(test_switch_device_pdi);
	RUN(test_lock);
	RUN(test_tnvl_mode);
	RUN(test_duplicate_pdis);
	RUN(test_gpu_and_switch_share_pdi);
	RUN(test_unverified_device_not_counted);
	RUN(test_no_usable_gpu);
	RUN(test_switches_alone);
	RUN(test_ppcie_gpus_without_switches);
	RUN(test_failures_leave_room);
	return harness_done("topology");
}
