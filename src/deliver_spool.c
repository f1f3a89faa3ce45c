/* deliver_spool.c - the spool channel: JSON files written atomically to a directory */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_spool.h"
#include "log.h"

/* Longest id we turn into a file name: room for ".json" and the temp suffix within NAME_MAX. */
#define SPOOL_ID_MAX 200

/* True when id can be a file stem: no '/', not starting with '.', no control characters. */
static bool
valid_stem(const char *id)
{
	const unsigned char *p;

	if (id == NULL || id[0] == '\0' || id[0] == '.' || strlen(id) > SPOOL_ID_MAX)
		return false;
	for (p = (const unsigned char *) id; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7F)
			return false;
	return true;
}

/*
 * Check that dir exists and is a writable directory; logs a setup error,
 * puts a short reason into why (for the outbox's attempt rows) and returns
 * -1 if not.
 */
static int
check_directory(const char *dir, char *why, size_t size)
{
	struct stat st;

	if (dir == NULL || dir[0] == '\0') {
		snprintf(why, size, "spool.directory is not set");
		log_error("spool.directory is not set");
		log_hint("set spool { directory = \"/var/spool/kvpscan\"; } in the configuration file");
		return -1;
	}
	if (stat(dir, &st) < 0) {
		snprintf(why, size, "spool directory cannot be used: %s", strerror(errno));
		log_error("could not use spool directory \"%s\": %s", dir, strerror(errno));
		if (errno == ENOENT)
			log_hint("create it, e.g. \"mkdir -m 2750 %s\", owned by the user kvpscan runs as", dir);
		else
			log_hint("check the permissions of the directories on its path");
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, size, "spool directory is not a directory");
		log_error("spool directory \"%s\" is not a directory", dir);
		log_hint("point spool.directory at a directory");
		return -1;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(why, size, "cannot write to the spool directory: %s", strerror(errno));
		log_error("cannot write to spool directory \"%s\": %s", dir, strerror(errno));
		log_hint("give the user kvpscan runs as write permission, e.g. with chown or chmod g+w");
		return -1;
	}
	return 0;
}

int
spool_write_batch(const kvp_config *cfg, kvp_message *msgs, size_t n)
{
	const char *dir = cfg->spool_directory;
	size_t i, nok = 0, nretry = 0, nperm = 0;
	int first_errno = 0;
	char why[128];

	if (check_directory(dir, why, sizeof(why)) < 0) {
		for (i = 0; i < n; i++) {
			kvp_message_set_result(&msgs[i], KVP_SEND_UNUSABLE, 0, "%s", why);
			msgs[i].retry_after = -1;
		}
		return -1;
	}
	for (i = 0; i < n; i++) {
		kvp_message *msg = &msgs[i];
		char *path;

		msg->retry_after = -1;
		if (!valid_stem(msg->id)) {
			kvp_message_set_result(msg, KVP_SEND_PERMANENT, 0,
					       "delivery id cannot be a file name (empty, '/', leading '.' or too long)");
			nperm++;
			continue;
		}
		if (msg->json_body == NULL) {
			kvp_message_set_result(msg, KVP_SEND_PERMANENT, 0, "message has no JSON document");
			nperm++;
			continue;
		}
		path = xasprintf("%s/%s.json", dir, msg->id);
		if (write_file_atomic(path, msg->json_body, strlen(msg->json_body), 0640) < 0) {
			int e = errno;

			kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "could not write spool file: %s",
					       strerror(e));
			if (first_errno == 0)
				first_errno = e;
			nretry++;
		} else {
			kvp_message_set_result(msg, KVP_SEND_OK, 0, NULL);
			nok++;
		}
		free(path);
	}
	if (nok == n) {
		log_info("wrote %zu spool files", n);
	} else {
		log_warning("wrote %zu of %zu spool files: %zu to retry, %zu refused", nok, n, nretry, nperm);
		if (first_errno)
			log_detail("first write error in \"%s\": %s", dir, strerror(first_errno));
	}
	return 0;
}
