// SPDX-License-Identifier: MIT
/*
 * A plain main() for builds without a fuzzing engine: runs every file named on the command line
 * (folders: every file inside) through the target, as the regression tests do.
 *   fuzz_<target> [-v] FILE|DIR...    -v prints each decoded operation and its outcome
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)len + 1)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (sgt_fuzz_verbose)
		fprintf(stderr, "%s (%ld bytes):\n", path, len);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int s_run_path(const char *path, unsigned *count)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;
	char sub[4096];
	int err = 0;

	if (stat(path, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return s_run_file(path);
	}
	dir = opendir(path);
	if (!dir)
		return -1;
	while (!err && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		err = s_run_path(sub, count);
	}
	closedir(dir);
	return err;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			sgt_fuzz_verbose = 1;
			continue;
		}
		if (s_run_path(argv[i], &count)) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 2;
		}
	}
	printf("%s: %u inputs replayed, no failure\n", argv[0], count);
	return 0;
}
