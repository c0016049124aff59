/* Adapters from the network layer to the appraisal's interfaces. */
#ifndef GPA_NETGLUE_H
#define GPA_NETGLUE_H

#include "appraise/appraise.h"
#include "net/bundle.h"
#include "net/cache.h"
#include "net/collateral.h"
#include "net/http.h"
#include "net/rimsvc.h"
#include "x509/ocsp.h"

#include <pthread.h>

/* Where every RIM and OCSP answer of one verification came from (shared by
 * the RIM fetch and the OCSP stage, which may run on different threads). */
struct gpa_collateral_log {
	pthread_mutex_t mu;
	size_t n, cap;
	struct gpa_collateral_use *v;
};
void collateral_log_init(struct gpa_collateral_log *l);
/* Hands the entries to a (a->collateral, owned by a from then on). */
void collateral_log_move(struct gpa_collateral_log *l, struct gpa_appraisal *a);
void collateral_log_destroy(struct gpa_collateral_log *l);

struct gpa_netglue {
	struct gpa_http_opts http;
	struct gpa_rim_sources rims;
	struct gpa_ocsp_opts ocsp;
	const struct gpa_anchors *anchors;
	bool allow_hold_rim;
	struct gpa_collateral_log *log;		/* NULL: sources not recorded */
};

void netglue_rim_source(struct gpa_netglue *g, struct gpa_rim_provider *s);
void netglue_ocsp_stage(struct gpa_netglue *g, struct gpa_ocsp_stage *s);

#endif
