/* history.h - "kvpscan history CASE_REF": one case's documented trail from stored runs */
#ifndef KVP_HISTORY_H
#define KVP_HISTORY_H

#include "cmd.h"

/* The command (cmd.h declares it too); a KVP_EXIT_* code. */
int cmd_history(int argc, char **argv, kvp_ctx *ctx);

#endif
