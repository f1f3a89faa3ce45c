/* deliver.c - helpers shared by the delivery channels */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "log.h"

void
kvp_message_set_result(kvp_message *msg, enum kvp_send_result r, int status, const char *fmt, ...)
{
	va_list ap;

	msg->result = r;
	msg->status = status;
	msg->error[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg->error, sizeof(msg->error), fmt, ap);
		va_end(ap);
	}
}

const char *
kvp_send_result_name(enum kvp_send_result r)
{
	switch (r) {
	case KVP_SEND_OK: return "ok";
	case KVP_SEND_RETRY: return "retry";
	case KVP_SEND_PERMANENT: return "failed";
	case KVP_SEND_UNUSABLE: return "unusable";
	default: return "pending";
	}
}

bool
kvp_tls_name_mismatch(const char *errbuf)
{
	/* libcurl's own host check (OpenSSL backend), and OpenSSL's X509 host check */
	static const char *const marks[] = {
		"no alternative certificate subject name matches",
		"does not match target host name",
		"Hostname mismatch",
		"IP address mismatch",
	};
	size_t i;

	if (errbuf == NULL)
		return false;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(errbuf, marks[i]) != NULL)
			return true;
	return false;
}

void
kvp_tls_name_mismatch_hint(const char *key)
{
	log_hint("the certificate is for another host name: check the host in %s "
		 "(it must be a name or address the certificate lists)", key);
}
