/*
 * rim/xmllib: libxml2 and xmlsec1, loaded on first use (see xmllib.c).
 */
#ifndef GPA_RIM_XMLLIB_H
#define GPA_RIM_XMLLIB_H

#include <stddef.h>

/* Loads the libraries once; 0, or -1 with the reason in err. Every other
 * use of libxml2 or xmlsec in this process must come after a 0 from here. */
int xmllib_load(char *err, size_t len);

#endif
