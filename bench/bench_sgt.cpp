// SPDX-License-Identifier: MIT
// sgt benchmarks: table construction and page iteration over 1k..1M pages in three layouts, and
// copy bandwidth through a 64 MiB table against plain memcpy of the same bytes in the same run.
// This is a benchmark, not a test: it asserts nothing about speed. The summary at the end quotes
// medians over the repetitions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "median_reporter.hpp"
#include "sgt/sgt.h"

namespace {

constexpr size_t kCopyBytes = 64u << 20;
constexpr uint64_t kBasePfn = 1u << 20;

enum Layout { kContiguous, kScattered, kAlternating };
const char *const kLayoutName[] = { "contiguous", "scattered", "alternating" };

// contiguous: one run; scattered: no two pages adjacent; alternating: runs of two, then a gap.
std::vector<uint64_t> make_pfns(Layout l, size_t n)
{
	std::vector<uint64_t> v(n);
	for (size_t i = 0; i < n; i++) {
		switch (l) {
		case kContiguous: v[i] = kBasePfn + i; break;
		case kScattered: v[i] = kBasePfn + 2 * i; break;
		case kAlternating: v[i] = kBasePfn + (i / 2) * 3 + i % 2; break;
		}
	}
	return v;
}

// Counts live bytes so the benchmark can report table memory per entry.
struct CountingAlloc {
	sgt_allocator a{ alloc, release, this };
	size_t live = 0;
	static void *alloc(void *ctx, size_t len, sgt_alloc_ctx)
	{
		static_cast<CountingAlloc *>(ctx)->live += len;
		return malloc(len);
	}
	static void release(void *ctx, void *p, size_t len)
	{
		static_cast<CountingAlloc *>(ctx)->live -= len;
		free(p);
	}
};

void build(sgt_table *t, const std::vector<uint64_t> &pfns, const sgt_allocator *a)
{
	sgt_pages p;
	sgt_table_params params{ a, nullptr, 0 };
	sgt_pages_from_array(&p, pfns.data(), pfns.size());
	if (sgt_table_init_from_pages(t, &params, &p, 0, pfns.size() * 4096,
				      SGT_MAX_SEGMENT_UNLIMITED, SGT_MAY_SLEEP))
		abort();
}

void BM_Build(benchmark::State &state)
{
	auto pfns = make_pfns(Layout(state.range(0)), (size_t)state.range(1));
	CountingAlloc ca;
	uint32_t ents = 0;
	size_t bytes = 0;
	for (auto _ : state) {
		sgt_table t;
		build(&t, pfns, &ca.a);
		bytes = ca.live;
		if (sgt_cpu_info(&t.cpu, &ents, nullptr))
			abort();
		sgt_table_cleanup(&t);
	}
	state.SetLabel(kLayoutName[state.range(0)]);
	state.counters["pages"] = (double)pfns.size();
	state.counters["entries"] = ents;
	state.counters["bytes_per_entry"] = (double)bytes / ents;
	state.counters["ns_per_page"] = benchmark::Counter(
		(double)pfns.size(), benchmark::Counter::kIsIterationInvariantRate |
					     benchmark::Counter::kInvert);
}

void BM_IteratePages(benchmark::State &state)
{
	auto pfns = make_pfns(Layout(state.range(0)), (size_t)state.range(1));
	sgt_table t;
	build(&t, pfns, nullptr);
	for (auto _ : state) {
		sgt_page_iter it;
		uint64_t sum = 0;
		if (sgt_page_iter_init(&it, &t.cpu, 0))
			abort();
		while (sgt_page_iter_next(&it))
			sum += it.pfn + it.len;
		benchmark::DoNotOptimize(sum);
	}
	sgt_table_cleanup(&t);
	state.SetLabel(kLayoutName[state.range(0)]);
	state.counters["ns_per_page"] = benchmark::Counter(
		(double)pfns.size(), benchmark::Counter::kIsIterationInvariantRate |
					     benchmark::Counter::kInvert);
}

// 64 MiB of real, page-aligned memory, and a table over its pages in order or shuffled.
struct CopyFixture {
	// Both buffers page-aligned, plus an optional shift of the flat buffer: glibc's memcpy
	// for 4 KiB pieces (rep movsb) is several times slower into a misaligned destination.
	uint8_t *src = static_cast<uint8_t *>(aligned_alloc(4096, kCopyBytes));
	uint8_t *dst_mem = static_cast<uint8_t *>(aligned_alloc(4096, kCopyBytes + 4096));
	uint8_t *dst;
	sgt_table t{};
	explicit CopyFixture(bool shuffled, size_t dst_shift = 0) : dst(dst_mem + dst_shift)
	{
		memset(src, 0x5a, kCopyBytes);
		memset(dst_mem, 0, kCopyBytes + 4096);
		std::vector<uint64_t> pfns(kCopyBytes / 4096);
		std::iota(pfns.begin(), pfns.end(), (uint64_t)(uintptr_t)src >> 12);
		if (shuffled)
			std::shuffle(pfns.begin(), pfns.end(), std::mt19937_64(42));
		build(&t, pfns, nullptr);
	}
	~CopyFixture()
	{
		sgt_table_cleanup(&t);
		free(src);
		free(dst_mem);
	}
};

void BM_Memcpy64M(benchmark::State &state)
{
	CopyFixture f(false);
	for (auto _ : state) {
		memcpy(f.dst, f.src, kCopyBytes);
		benchmark::ClobberMemory();
	}
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)kCopyBytes);
}

// The floor for any page-by-page copy: memcpy of the same bytes in 4 KiB pieces. The piece size
// is a run-time value, as in sgt, so the compiler cannot inline a fixed-size copy and both go
// through the same libc memcpy path.
void BM_Memcpy64MInPages(benchmark::State &state)
{
	CopyFixture f(false, (size_t)state.range(0));
	size_t piece = 4096;
	benchmark::DoNotOptimize(piece);
	for (auto _ : state) {
		for (size_t off = 0; off < kCopyBytes; off += piece)
			memcpy(f.dst + off, f.src + off, piece);
		benchmark::ClobberMemory();
	}
	state.SetLabel(state.range(0) ? "dst +16 B" : "dst aligned");
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)kCopyBytes);
}

void BM_CopyToBuffer64M(benchmark::State &state)
{
	CopyFixture f(state.range(0) != 0, (size_t)state.range(1));
	uint32_t ents = 0;
	if (sgt_cpu_info(&f.t.cpu, &ents, nullptr))
		abort();
	for (auto _ : state) {
		size_t n;
		if (sgt_copy_to_buffer(&f.t.cpu, 0, f.dst, kCopyBytes, &n) || n != kCopyBytes)
			abort();
		benchmark::ClobberMemory();
	}
	state.SetLabel(std::string(state.range(0) ? "shuffled" : "in-order") +
		       (state.range(1) ? ", dst +16 B" : ""));
	state.counters["entries"] = ents;
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)kCopyBytes);
}

void BM_CopyFromBuffer64M(benchmark::State &state)
{
	CopyFixture f(state.range(0) != 0);
	for (auto _ : state) {
		size_t n;
		if (sgt_copy_from_buffer(&f.t.cpu, 0, f.dst, kCopyBytes, &n) ||
		    n != kCopyBytes)
			abort();
		benchmark::ClobberMemory();
	}
	state.SetLabel(state.range(0) ? "shuffled" : "in-order");
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)kCopyBytes);
}

void layouts_and_sizes(benchmark::internal::Benchmark *b)
{
	for (int l = kContiguous; l <= kAlternating; l++)
		for (int64_t n : { 1 << 10, 1 << 14, 1 << 17, 1 << 20 })
			b->Args({ l, n });
}

BENCHMARK(BM_Build)->Apply(layouts_and_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IteratePages)->Apply(layouts_and_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Memcpy64M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Memcpy64MInPages)->Arg(0)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyToBuffer64M)
	->Args({ 0, 0 })
	->Args({ 1, 0 })
	->Args({ 1, 16 })
	->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyFromBuffer64M)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

class SummaryReporter : public MedianReporter {
    public:
	void summary() const;
};

void SummaryReporter::summary() const
{
	auto it = median.find("BM_Memcpy64M/");
	double memcpy_ns = it == median.end() ? 0 : it->second.real_ns;
	printf("\n=== sgt benchmark summary (medians) ===\n");
	printf("%-26s %-12s %9s %10s %12s %14s\n", "benchmark", "layout", "pages", "entries",
	       "ns/page", "bytes/entry");
	for (const auto &name : order) {
		const Row &r = median.at(name);
		bool is_build = name.rfind("BM_Build/", 0) == 0;
		if (!is_build && name.rfind("BM_IteratePages/", 0) != 0)
			continue;
		double pages = (double)std::stoll(name.substr(name.rfind('/') + 1));
		printf("%-26s %-12s %9.0f %10s %12.2f %14s\n", name.substr(0, name.find('/')).c_str(),
		       r.label.c_str(), pages,
		       is_build ? std::to_string((long)r.counters.at("entries").value).c_str() : "",
		       r.real_ns / pages,
		       is_build ? std::to_string(r.counters.at("bytes_per_entry").value).c_str()
				: "");
	}
	printf("\n%-34s %-20s %10s %12s\n", "copy of 64 MiB", "pages", "GiB/s", "vs memcpy");
	for (const auto &name : order) {
		const Row &r = median.at(name);
		if (name.find("64M") == std::string::npos)
			continue;
		double gibs = (double)kCopyBytes / r.real_ns * 1e9 / (1u << 30);
		printf("%-34s %-20s %10.2f %11.2fx\n", name.c_str(), r.label.c_str(), gibs,
		       memcpy_ns / r.real_ns);
	}
}

} // namespace

int main(int argc, char **argv)
{
	return run_benchmarks<SummaryReporter>(argc, argv);
}
