/*
 * curl_fail.c - an LD_PRELOAD shim for tests/integration/paths.sh: the
 * libcurl function named in $KVP_CURL_FAIL fails (NULL or CURLE_FAILED_INIT),
 * as it would when libcurl cannot start or memory runs out; every other call
 * goes to the real libcurl.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

static int
fails(const char *name)
{
	const char *f = getenv("KVP_CURL_FAIL");

	return f != NULL && strcmp(f, name) == 0;
}

static void *
real(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

CURLcode
curl_global_init(long flags)
{
	CURLcode (*f)(long) = (CURLcode (*)(long)) real("curl_global_init");

	return fails("curl_global_init") ? CURLE_FAILED_INIT : f(flags);
}

CURLM *
curl_multi_init(void)
{
	CURLM *(*f)(void) = (CURLM *(*)(void)) real("curl_multi_init");

	return fails("curl_multi_init") ? NULL : f();
}

CURL *
curl_easy_init(void)
{
	CURL *(*f)(void) = (CURL *(*)(void)) real("curl_easy_init");

	return fails("curl_easy_init") ? NULL : f();
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *s)
{
	struct curl_slist *(*f)(struct curl_slist *, const char *)
		= (struct curl_slist *(*)(struct curl_slist *, const char *)) real("curl_slist_append");

	return fails("curl_slist_append") ? NULL : f(list, s);
}
