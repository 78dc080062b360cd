// SPDX-License-Identifier: MIT
// The core's bounded formatter (core/src/fmt.c), which writes every debug-layer message: the
// conversions it claims, 64-bit values at their extremes, and truncation that never overruns.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <string>

extern "C" size_t sgt__format(char *buf, size_t size, const char *fmt, ...);

namespace
{

std::string fmt_u64(uint64_t v, const char *spec)
{
	char buf[64];
	sgt__format(buf, sizeof(buf), spec, (unsigned long long)v);
	return buf;
}

TEST(Format, ConversionsMatchPrintf)
{
	char buf[128], want[128];
	sgt__format(buf, sizeof(buf), "%s|%d|%d|%u|%%|%x", "dev", -42, 0, 4000000000u, 0xbeefu);
	snprintf(want, sizeof(want), "%s|%d|%d|%u|%%|%x", "dev", -42, 0, 4000000000u, 0xbeefu);
	EXPECT_STREQ(want, buf);
}

TEST(Format, SixtyFourBitValuesAtTheirExtremes)
{
	const uint64_t vals[] = {
		0, 9, 10, 99, 100, 1234567890123ull, UINT64_MAX / 10, UINT64_MAX - 1, UINT64_MAX
	};
	for (uint64_t v : vals) {
		char want[64];
		snprintf(want, sizeof(want), "%" PRIu64, v);
		EXPECT_EQ(want, fmt_u64(v, "%llu")) << v;
		snprintf(want, sizeof(want), "%#" PRIx64, v);
		EXPECT_EQ(v ? want : "0x0", fmt_u64(v, "%#llx")) << v; // printf's # omits 0x for 0
		snprintf(want, sizeof(want), "%" PRIx64, v);
		EXPECT_EQ(want, fmt_u64(v, "%llx")) << v;
	}
	// Every value around each power of ten, where a shift-and-add division could be off by one.
	for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10)
		for (uint64_t v = p - 1; v <= p + 1; v++) {
			char want[64];
			snprintf(want, sizeof(want), "%" PRIu64, v);
			EXPECT_EQ(want, fmt_u64(v, "%llu"));
		}
}

TEST(Format, TruncatesWithinTheBufferAndTerminates)
{
	char buf[8];
	memset(buf, 'X', sizeof(buf));
	size_t n = sgt__format(buf, 6, "%s and %llu", "abcdef", 123456789ull);
	EXPECT_EQ(5u, n);
	EXPECT_STREQ("abcde", buf);
	EXPECT_EQ('X', buf[6]) << "nothing written past the given size";
	EXPECT_EQ(0u, sgt__format(buf, 0, "%s", "x")) << "size 0 writes nothing";
	EXPECT_EQ('a', buf[0]);
	sgt__format(buf, sizeof(buf), "%s", (const char *)nullptr);
	EXPECT_STREQ("(null)", buf);
	EXPECT_EQ(0u, sgt__format(nullptr, 8, "%s", "x")) << "no buffer, nothing written";
	char wide[32];
	sgt__format(wide, sizeof(wide), "%lld|%lld", -1234567ll, (long long)INT64_MIN);
	EXPECT_STREQ("-1234567|-9223372036854775808", wide);
	sgt__format(buf, sizeof(buf), "%q%");
	EXPECT_STREQ("%q%", buf) << "unsupported conversions print as they stand";
}

} // namespace
