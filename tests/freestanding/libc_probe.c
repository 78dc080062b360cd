/* Must not compile under the freestanding flags: it includes a libc header. */
#include <string.h>

int sgt_libc_probe(const char *s);
int sgt_libc_probe(const char *s)
{
	return (int)strlen(s);
}
