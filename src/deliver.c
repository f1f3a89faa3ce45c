/* deliver.c - helpers shared by the delivery channels */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "deliver.h"

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
