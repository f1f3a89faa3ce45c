/* notify.h - the systemd notification protocol ($NOTIFY_SOCKET), without libsystemd */
#ifndef KVP_NOTIFY_H
#define KVP_NOTIFY_H

#include <stdint.h>
#include "util.h"

/*
 * Send a state string ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1")
 * to the service manager.  Returns 1 when sent, 0 when not running under a
 * manager that listens (no $NOTIFY_SOCKET), -1 on error (errno set).
 */
int notify_send(const char *state);

/* Like notify_send with printf formatting. */
int notify_sendf(const char *fmt, ...) KVP_PRINTF(1, 2);

/*
 * The watchdog interval in microseconds when systemd asks this process for
 * keep-alives ($WATCHDOG_USEC, and $WATCHDOG_PID unset or ours); else 0.
 */
uint64_t notify_watchdog_usec(void);

/*
 * Send WATCHDOG=1 when systemd asks for keep-alives and a quarter of the
 * interval has passed since this function last sent one (the first call
 * sends).  For long work between the daemon's own pings: delivery rounds
 * call it between batches and while waiting for webhook answers.  Cheap
 * when there is no watchdog.
 */
void notify_watchdog_kick(void);

#endif
