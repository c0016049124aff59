/* Adapters from the network layer to the appraisal's interfaces. */
#ifndef GPA_NETGLUE_H
#define GPA_NETGLUE_H

#include "appraise/appraise.h"
#include "net/bundle.h"
#include "net/cache.h"
#include "net/http.h"
#include "net/rimsvc.h"
#include "x509/ocsp.h"

struct gpa_netglue {
	struct gpa_http_opts http;
	struct gpa_rim_sources rims;
	struct gpa_ocsp_opts ocsp;
	const struct gpa_anchors *anchors;
	bool allow_hold_rim;
};

void netglue_rim_source(struct gpa_netglue *g, struct gpa_rim_provider *s);
void netglue_ocsp_stage(struct gpa_netglue *g, struct gpa_ocsp_stage *s);

#endif
