/* SPDX-License-Identifier: BSD-2-Clause */
/* Messages on stderr, prefixed "tspc: ". Errors and warnings always show;
 * info by default; debug with -v. stdout is reserved for the tunnel
 * parameters so that scripts can parse it. */
#ifndef TSPC_LOG_H
#define TSPC_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level max);
enum log_level log_get_level(void);
void logmsg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) logmsg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) logmsg(LOG_WARN, __VA_ARGS__)
#define log_info(...) logmsg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) logmsg(LOG_DEBUG, __VA_ARGS__)

#endif
