/* conf.c - placeholder until the option table lands */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "conf.h"
void conf_defaults(kvp_config *cfg) { memset(cfg, 0, sizeof(*cfg)); cfg->log_ident = xstrdup("kvpscan"); cfg->log_facility = xstrdup("daemon"); cfg->log_level = xstrdup("info"); cfg->log_destination = xstrdup("auto"); cfg->db_conninfo = xstrdup(""); cfg->db_password_file = xstrdup(""); cfg->db_source_schema = xstrdup("kvp_src"); cfg->db_state_schema = xstrdup("kvpscan"); cfg->db_connect_timeout = 10; cfg->dmn_timezone = xstrdup("Europe/Oslo"); }
int conf_load(kvp_config *cfg, const char *path) { (void) path; conf_free(cfg); return -1; }
void conf_free(kvp_config *cfg) { free(cfg->log_ident); free(cfg->log_facility); free(cfg->log_level); free(cfg->log_destination); free(cfg->db_conninfo); free(cfg->db_password_file); free(cfg->db_source_schema); free(cfg->db_state_schema); free(cfg->dmn_timezone); }
char *secret_read(const char *path, const char *credname, bool *failed) { (void) path; (void) credname; *failed = false; return NULL; }
