// SPDX-License-Identifier: MIT
// sgt benchmarks: table construction (one shot and by appends), the entry and page iterators over
// 1k..1M pages in three layouts, table memory per entry from one entry up, and copy bandwidth
// through a 64 MiB table. Every figure has a baseline measured in the same run:
// - construction against the floor: one pass over the frame array writing one 32-byte entry per
//   run of contiguous frames (capped at the maximum segment) into a flat array allocated once
//   outside the timed work, with no checks and no chunks (issue 11);
// - the iterators against plain loops over a flat array of the same entries doing the same work;
// - copies against memcpy of the same bytes.
// This is a benchmark, not a test: it asserts nothing about speed. The summary at the end quotes
// medians over the repetitions, and ratios of medians.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "median_reporter.hpp"
#include "paired.hpp"
#include "sgt/sgt.h"

namespace
{

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
		case kContiguous:
			v[i] = kBasePfn + i;
			break;
		case kScattered:
			v[i] = kBasePfn + 2 * i;
			break;
		case kAlternating:
			v[i] = kBasePfn + (i / 2) * 3 + i % 2;
			break;
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
		(double)pfns.size(),
		benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The pages a maximum segment of SGT_MAX_SEGMENT_UNLIMITED allows, as sgt and Linux round it.
constexpr uint64_t kMaxSegPages = (SGT_MAX_SEGMENT_UNLIMITED & ~4095u) >> 12;

// The floor: one entry per run of contiguous frames, capped at the maximum segment.
__attribute__((noinline)) size_t floor_build(const uint64_t *pfns, size_t n, sgt_entry *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && j - i < kMaxSegPages && pfns[j] == pfns[j - 1] + 1)
			j++;
		out[k++] = sgt_entry{ pfns[i], 0, (uint32_t)((j - i) << 12), 0, 0, 0 };
		i = j;
	}
	return k;
}

void append64(sgt_table *t, const std::vector<uint64_t> &pfns, const sgt_table_params *params);

// The same table built by appends of 64 pages per call (Linux's sg_alloc_append_table_from_pages
// use in RDMA umem and similar).
void BM_Append64(benchmark::State &state)
{
	auto pfns = make_pfns(Layout(state.range(0)), (size_t)state.range(1));
	CountingAlloc ca;
	sgt_table_params params{ &ca.a, nullptr, 0 };
	uint32_t ents = 0;
	size_t bytes = 0;
	for (auto _ : state) {
		sgt_table t;
		append64(&t, pfns, &params);
		bytes = ca.live;
		if (sgt_cpu_info(&t.cpu, &ents, nullptr))
			abort();
		sgt_table_cleanup(&t);
	}
	state.SetLabel(kLayoutName[state.range(0)]);
	state.counters["entries"] = ents;
	state.counters["bytes_per_entry"] = (double)bytes / ents;
}

// The flat array of entries the floor writes, for the iterators' baselines.
std::vector<sgt_entry> flat_entries(Layout l, size_t n)
{
	auto pfns = make_pfns(l, n);
	std::vector<sgt_entry> flat(n);
	flat.resize(floor_build(pfns.data(), n, flat.data()));
	return flat;
}

// What the page iterator yields, computed by a plain loop over a flat array of entries.
__attribute__((noinline)) uint64_t flat_page_walk(const sgt_entry *e, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)e[i].offset + e[i].len;
		uint64_t pages = (end + 4095) >> 12;
		for (uint64_t k = 0; k < pages; k++) {
			uint64_t off = k ? 0 : e[i].offset;
			uint64_t stop = std::min(end, (k + 1) << 12);
			sum += e[i].pfn + k + (stop - (k << 12) - off);
		}
	}
	return sum;
}

__attribute__((noinline)) uint64_t flat_entry_walk(const sgt_entry *e, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += e[i].pfn + e[i].len;
	return sum;
}

uint64_t iterate_pages(const sgt_table &t);

void BM_IteratePages(benchmark::State &state)
{
	auto pfns = make_pfns(Layout(state.range(0)), (size_t)state.range(1));
	sgt_table t;
	build(&t, pfns, nullptr);
	uint64_t last = 0;
	for (auto _ : state) {
		last = iterate_pages(t);
		benchmark::DoNotOptimize(last);
	}
	sgt_table_cleanup(&t);
	// Same work as the baseline: both must yield the same pages.
	auto flat = flat_entries(Layout(state.range(0)), (size_t)state.range(1));
	if (last != flat_page_walk(flat.data(), flat.size()))
		abort();
	state.SetLabel(kLayoutName[state.range(0)]);
	state.counters["ns_per_page"] = benchmark::Counter(
		(double)pfns.size(),
		benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
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
		if (sgt_copy_from_buffer(&f.t.cpu, 0, f.dst, kCopyBytes, &n) || n != kCopyBytes)
			abort();
		benchmark::ClobberMemory();
	}
	state.SetLabel(state.range(0) ? "shuffled" : "in-order");
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)kCopyBytes);
}

// One table built by appends of 64 pages per call.
void append64(sgt_table *t, const std::vector<uint64_t> &pfns, const sgt_table_params *params)
{
	if (sgt_table_init(t, params))
		abort();
	for (size_t i = 0; i < pfns.size(); i += 64) {
		sgt_pages p;
		size_t n = std::min<size_t>(64, pfns.size() - i);
		sgt_pages_from_array(&p, pfns.data() + i, n);
		if (sgt_table_append_pages(t, &p, 0, n * 4096, SGT_MAX_SEGMENT_UNLIMITED,
					   SGT_MAY_SLEEP))
			abort();
	}
}

uint64_t iterate_entries(const sgt_table &t)
{
	sgt_ent_iter it;
	uint64_t sum = 0;
	if (sgt_ent_iter_init(&it, &t.cpu))
		abort();
	while (sgt_ent_iter_next(&it))
		sum += it.ent->pfn + it.ent->len;
	return sum;
}

uint64_t iterate_pages(const sgt_table &t)
{
	sgt_page_iter it;
	uint64_t sum = 0;
	if (sgt_page_iter_init(&it, &t.cpu, 0))
		abort();
	while (sgt_page_iter_next(&it))
		sum += it.pfn + it.len;
	return sum;
}

enum Work { kBuild, kAppend64, kEntryIter, kPageIter };
const char *const kWorkName[] = { "build", "append64", "entry iterator", "page iterator" };

// sgt against its in-run baseline, paired (bench/paired.hpp): construction against the floor
// loop, the iterators against plain loops over a flat array of the same entries. Tables built in
// a round are freed after it, untimed: the floor frees nothing either.
void BM_Ratio(benchmark::State &state)
{
	auto work = (Work)state.range(0);
	auto layout = (Layout)state.range(1);
	size_t n = (size_t)state.range(2);
	int reps = (int)std::max<size_t>(1, (1u << 18) / n);
	auto pfns = make_pfns(layout, n);
	auto flat = flat_entries(layout, n);
	std::vector<sgt_entry> out(n);
	std::vector<sgt_table> tables((size_t)reps);
	sgt_table built;
	build(&built, pfns, nullptr);
	if (iterate_entries(built) != flat_entry_walk(flat.data(), flat.size()) ||
	    iterate_pages(built) != flat_page_walk(flat.data(), flat.size()))
		abort(); // the baselines must do the same work
	uint64_t sink = 0;
	auto floor = [&](int) {
		sink += floor_build(pfns.data(), n, out.data());
		benchmark::ClobberMemory();
	};
	auto flat_ents = [&](int) { sink += flat_entry_walk(flat.data(), flat.size()); };
	auto flat_pages = [&](int) { sink += flat_page_walk(flat.data(), flat.size()); };
	auto do_build = [&](int r) { build(&tables[(size_t)r], pfns, nullptr); };
	auto do_append = [&](int r) { append64(&tables[(size_t)r], pfns, nullptr); };
	auto ents = [&](int) { sink += iterate_entries(built); };
	auto pages = [&](int) { sink += iterate_pages(built); };
	auto free_all = [&] {
		for (auto &t : tables)
			sgt_table_cleanup(&t);
	};
	auto nothing = [] {};
	PairedResult res{};
	for (auto _ : state) {
		switch (work) {
		case kBuild:
			res = paired(floor, do_build, free_all, 11, reps);
			break;
		case kAppend64:
			res = paired(floor, do_append, free_all, 11, reps);
			break;
		case kEntryIter:
			res = paired(flat_ents, ents, nothing, 11, reps);
			break;
		case kPageIter:
			res = paired(flat_pages, pages, nothing, 11, reps);
			break;
		}
	}
	benchmark::DoNotOptimize(sink);
	sgt_table_cleanup(&built);
	double per = work == kEntryIter ? (double)flat.size() : (double)n;
	state.SetLabel(std::string(kWorkName[work]) + ", " + kLayoutName[layout]);
	state.counters["base_ns"] = res.base_ns / per;
	state.counters["sgt_ns"] = res.subject_ns / per;
	state.counters["ratio"] = res.ratio;
	state.counters["entries"] = (double)flat.size();
}

// Bytes Linux allocates for an n-entry sg_alloc_table(): allocations of at most 128 slots of 32
// bytes, each but the last giving one slot to the chain link, the last sized to what is left
// (the sizing rule of lib/scatterlist.c; kmalloc's rounding up to its size classes not counted).
double linux_table_bytes(uint64_t n)
{
	uint64_t slots = 0;
	for (; n > 128; n -= 127)
		slots += 128;
	return 32.0 * (double)(slots + n);
}

// Table memory for n scattered pages (n entries), built in one shot (arg 0) or by appending one
// page per call (arg 1).
void BM_TableMemory(benchmark::State &state)
{
	auto pfns = make_pfns(kScattered, (size_t)state.range(0));
	bool appended = state.range(1) != 0;
	CountingAlloc ca;
	sgt_table_params params{ &ca.a, nullptr, 0 };
	size_t bytes = 0;
	for (auto _ : state) {
		sgt_table t;
		if (!appended) {
			build(&t, pfns, &ca.a);
		} else if (sgt_table_init(&t, &params)) {
			abort();
		}
		for (size_t i = 0; appended && i < pfns.size(); i++) {
			sgt_pages p;
			sgt_pages_from_array(&p, &pfns[i], 1);
			if (sgt_table_append_pages(&t, &p, 0, 4096, SGT_MAX_SEGMENT_UNLIMITED,
						   SGT_MAY_SLEEP))
				abort();
		}
		bytes = ca.live;
		sgt_table_cleanup(&t);
	}
	state.SetLabel(appended ? "appended 1/call" : "one shot");
	state.counters["bytes_per_entry"] = (double)bytes / (double)pfns.size();
	state.counters["linux_bytes_per_entry"] =
		linux_table_bytes(pfns.size()) / (double)pfns.size();
	state.counters["table_handle_bytes"] = sizeof(sgt_table);
}

void layouts_and_sizes(benchmark::internal::Benchmark *b)
{
	for (int l = kContiguous; l <= kAlternating; l++)
		for (int64_t n : { 1 << 10, 1 << 14, 1 << 17, 1 << 20 })
			b->Args({ l, n });
}

BENCHMARK(BM_Ratio)
	->ArgsProduct({ { kBuild, kAppend64, kEntryIter, kPageIter },
			{ kContiguous, kScattered, kAlternating },
			{ 1 << 10, 1 << 14, 1 << 17, 1 << 20 } })
	->Iterations(1)
	->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Build)->Apply(layouts_and_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Append64)->Apply(layouts_and_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IteratePages)->Apply(layouts_and_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TableMemory)
	->ArgsProduct({ { 1, 2, 3, 8, 100, 127, 128, 129, 1000, 10000 }, { 0, 1 } })
	->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Memcpy64M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Memcpy64MInPages)->Arg(0)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyToBuffer64M)
	->Args({ 0, 0 })
	->Args({ 1, 0 })
	->Args({ 1, 16 })
	->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyFromBuffer64M)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

class SummaryReporter : public MedianReporter
{
      public:
	void summary() const;

      private:
	double ns(const std::string &name) const;
};

double SummaryReporter::ns(const std::string &name) const
{
	auto it = median.find(name);
	return it == median.end() ? 0 : it->second.real_ns;
}

// Issue 11's goals, as sgt time over floor time at 1M pages (Linux measured 3.3x, 2.9x, 4.8x).
const double kBuildGoal[] = { 2.6, 2.3, 3.8 };

void SummaryReporter::summary() const
{
	printf("\n=== sgt benchmark summary (medians; ratios are of medians in this run) ===\n");
	printf("sgt against its in-run baseline (paired rounds; x = median of per-round ratios)\n");
	printf("baseline: the floor loop for construction, a flat-array loop for the iterators\n");
	printf("%-16s %-12s %8s %9s %10s %10s %8s %6s\n", "work", "layout", "pages", "entries",
	       "base ns", "sgt ns", "x", "goal");
	for (int w = kBuild; w <= kPageIter; w++) {
		for (int l = kContiguous; l <= kAlternating; l++) {
			for (long n : { 1L << 10, 1L << 14, 1L << 17, 1L << 20 }) {
				std::string name = "BM_Ratio/" + std::to_string(w) + "/" +
						   std::to_string(l) + "/" + std::to_string(n);
				if (!median.count(name))
					continue;
				std::string goal =
					w == kBuild && n == (1L << 20)
						? std::to_string(kBuildGoal[l]).substr(0, 3) + "x"
						: "";
				printf("%-16s %-12s %8ld %9.0f %10.2f %10.2f %7.2fx %6s\n",
				       kWorkName[w], kLayoutName[l], n, counter(name, "entries"),
				       counter(name, "base_ns"), counter(name, "sgt_ns"),
				       counter(name, "ratio"), goal.c_str());
			}
		}
	}
	printf("(ns per page; per entry for the entry iterator)\n");
	printf("\nconstruction alone, medians of separate runs: ns per page and bytes per entry\n");
	printf("%-12s %8s %9s %10s %10s %10s %10s\n", "layout", "pages", "entries", "build",
	       "B/entry", "append64", "B/entry");
	for (int l = kContiguous; l <= kAlternating; l++) {
		for (long n : { 1L << 10, 1L << 14, 1L << 17, 1L << 20 }) {
			std::string args = std::to_string(l) + "/" + std::to_string(n);
			std::string b = "BM_Build/" + args, a = "BM_Append64/" + args;
			if (!median.count(b))
				continue;
			printf("%-12s %8ld %9.0f %10.2f %10.2f %10.2f %10.2f\n", kLayoutName[l], n,
			       counter(b, "entries"), ns(b) / (double)n,
			       counter(b, "bytes_per_entry"), ns(a) / (double)n,
			       counter(a, "bytes_per_entry"));
		}
	}
	printf("\ntable memory, bytes per entry (allocated; the handle, %zu bytes, is the "
	       "caller's)\n",
	       sizeof(sgt_table));
	printf("%-8s %12s %12s %12s\n", "entries", "one shot", "appended", "Linux 1 shot");
	for (long n : { 1, 2, 3, 8, 100, 127, 128, 129, 1000, 10000 }) {
		std::string o = "BM_TableMemory/" + std::to_string(n) + "/0",
			    a = "BM_TableMemory/" + std::to_string(n) + "/1";
		if (!median.count(o))
			continue;
		printf("%-8ld %12.2f %12.2f %12.2f\n", n, counter(o, "bytes_per_entry"),
		       counter(a, "bytes_per_entry"), counter(o, "linux_bytes_per_entry"));
	}
	auto it = median.find("BM_Memcpy64M/");
	double memcpy_ns = it == median.end() ? 0 : it->second.real_ns;
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
	// Keep freed memory in the process, as a kernel's slab does: without this, glibc returns
	// the chunks of a freed 32 MiB table to the OS and the next build spends a third of its
	// time in page faults, which would measure the OS, not the table code (the floor's array is
	// faulted in once, outside the timed work, too).
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	return run_benchmarks<SummaryReporter>(argc, argv);
}
