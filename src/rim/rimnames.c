/*
 * The file names a RIM is saved under, by NVIDIA's tools and by us, so that
 * a RIM directory filled by any of them is found (issue 14.6):
 *   <id>.xml        NVIDIA's C++ SDK / nvattest --rim-dir (attestation-formats.md §7.2)
 *   <id>.json       a RIM service reply, saved as it came
 *   <id>.swidtag    the SWID tag extension NVIDIA's RIM files carry
 *   <project>_<sku>_<chip>_<version>_PROD.swidtag (VBIOS RIMs only): NVIDIA's
 *                   published VBIOS RIM files (nvtrust guest_tools/rims/vbios_rims,
 *                   the Python verifier's legacy helper), project in lower
 *                   case as NVIDIA writes it (g520_...) and as in the id.
 */
#include "rim/rim.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define VBIOS_PREFIX "NV_GPU_VBIOS_"

int rim_file_names(const char *id, char names[GPA_RIM_FILE_NAMES][GPA_RIM_FILE_NAME_MAX])
{
	static const char *const exts[] = {".xml", ".json", ".swidtag"};
	int n = 0;

	for (size_t k = 0; k < 3; k++)
		snprintf(names[n++], GPA_RIM_FILE_NAME_MAX, "%s%s", id, exts[k]);
	if (strncmp(id, VBIOS_PREFIX, strlen(VBIOS_PREFIX)) == 0) {
		const char *rest = id + strlen(VBIOS_PREFIX);
		size_t plen = strcspn(rest, "_");
		char project[32];
		size_t i;

		/* Only the project is lower case in NVIDIA's names; the SKUs
		 * and the version keep their capitals. */
		for (i = 0; i < plen && i + 1 < sizeof(project); i++)
			project[i] = (char)tolower((unsigned char)rest[i]);
		project[i] = '\0';
		snprintf(names[n++], GPA_RIM_FILE_NAME_MAX, "%s%s_PROD.swidtag", project, rest + plen);
		snprintf(names[n], GPA_RIM_FILE_NAME_MAX, "%s_PROD.swidtag", rest);
		if (strcmp(names[n], names[n - 1]) != 0)
			n++;
	}
	return n;
}

void rim_file_names_list(const char *id, char *out, size_t len)
{
	char names[GPA_RIM_FILE_NAMES][GPA_RIM_FILE_NAME_MAX];
	int n = rim_file_names(id, names);
	size_t used = 0;

	if (len == 0)
		return;
	out[0] = '\0';
	for (int k = 0; k < n && used < len; k++) {
		int w = snprintf(out + used, len - used, "%s%s", k ? ", " : "", names[k]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
