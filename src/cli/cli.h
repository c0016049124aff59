/* The gpuattest commands. Each returns the process exit code. */
#ifndef GPA_CLI_H
#define GPA_CLI_H

#include <stdio.h>

#include "gpuattest.h"

int cli_verify(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_collect(int argc, char **argv);
void cli_usage_verify(FILE *f);
void cli_usage_inspect(FILE *f);
void cli_usage_collect(FILE *f);
int cli_fetch_collateral(int argc, char **argv);
void cli_usage_fetch(FILE *f);
int cli_cache(int argc, char **argv);
void cli_usage_cache(FILE *f);
int cli_watch(int argc, char **argv);
void cli_usage_watch(FILE *f);

/* Shared option helpers. */
int cli_parse_time(const char *s, time_t *out);
int cli_parse_nonce(const char *s, unsigned char out[32]);

#endif
