/* cmd_config.c - placeholder */
#include "config.h"
#include <stdio.h>
#include "cmd.h"
int cmd_check_config(int argc, char **argv, kvp_ctx *ctx) { (void) argc; (void) argv; (void) ctx; fprintf(stderr, "kvpscan: not implemented yet\n"); return KVP_EXIT_FAILURE; }
