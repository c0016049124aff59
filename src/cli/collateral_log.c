/* verify -v: where each RIM and OCSP answer of the verification came from. */
#include <stdio.h>

#include "cli/cli.h"
#include "appraise/appraise.h"

void cli_print_collateral(FILE *f, const struct gpa_appraisal *a)
{
	for (size_t i = 0; i < a->ncollateral; i++) {
		const struct gpa_collateral_use *u = &a->collateral[i];

		if (u->where[0])
			fprintf(f, "gpuattest: %s %s: from %s\n", u->kind, u->name, u->where);
		else
			fprintf(f, "gpuattest: %s %s: no source had it\n", u->kind, u->name);
		if (u->discarded[0])
			fprintf(f, "gpuattest: %s %s: %s\n", u->kind, u->name, u->discarded);
	}
}
