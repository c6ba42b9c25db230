/*
 * fuzz_conf.c: libFuzzer target for the configuration parser. Any input
 * must either parse or be refused with a "file:line:" message.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct conf *conf;

	err[0] = '\0';
	conf = conf_parse("fuzz.conf", (const char *)data, size, "/dev/null",
	    err, sizeof(err));
	if (conf == NULL && strncmp(err, "fuzz.conf", 9) != 0)
		abort();	/* every refusal names the file */
	conf_free(conf);
	return 0;
}
