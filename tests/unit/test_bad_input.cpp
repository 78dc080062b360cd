// SPDX-License-Identifier: MIT
// Every public function, in the core and in every backend, called with each class of bad input:
// NULL objects, out-of-range values, stale, uninitialised or copied handles, malformed
// configurations. One rule for all: a documented error (or, for functions that return no error,
// a harmless answer) and nothing changed, nothing leaked, no crash.
//
// The cases come from one table. Each runs in a forked child, so a crash is one failing case and
// not the end of the run; under the asan preset the children run under ASan and UBSan, which turn
// an out-of-bounds access or undefined behaviour into a crash. A completeness test reads the
// public headers and fails when a function has no case, so a new function cannot be forgotten.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sgt/iova.h"
#include "sgt/sgt.h"
#include "sgt/simiommu.h"
#include "sgt/user.h"
#include "sgt_testkit.h"

namespace
{

constexpr unsigned kShift = 12;
constexpr uint64_t kPs = 1u << kShift;
constexpr uint64_t kBase = 0x1000;
constexpr int kNoError = 1000; // "returns no error code": only no change and no crash count

// Scratch outputs for the calls (each case runs in its own child process).
size_t g_n;
uint8_t g_buf[64];

// Everything a bad call could damage, built fresh in each child.
struct World {
	sgt_test_alloc alloc{};
	sgt_test_mem mem{};
	sgt_table_params params{};
	sgt_table t{}; // live, owned, three entries
	sgt_table stale{}; // dropped
	sgt_table garbage{}; // never initialised
	sgt_table copy{}; // t copied by value
	sgt_simiommu *sim = nullptr;
	sgt_device *dev = nullptr;
	sgt_table mt{}; // consumed by the mapping below
	sgt_mapping m{}; // live, bidirectional, on the iommu device
	sgt_iova *iova = nullptr;
	sgt_iova_cache *cache = nullptr;
	uint64_t pfns[3] = { kBase, kBase + 2, kBase + 4 };
	sgt_pages pages{};
	sgt_dma_window win{ 0x100000, 0x100000 + 64 * kPs - 1 };

	World()
	{
		sgt_test_alloc_init(&alloc);
		if (sgt_test_mem_init(&mem, kShift, kBase, 64))
			abort();
		params = { &alloc.alloc, &mem.mem, 2 };
		sgt_pages_from_array(&pages, pfns, 3);
		if (sgt_table_init_from_pages(&t, &params, &pages, 0, 3 * kPs, 0x10000,
					      SGT_MAY_SLEEP) ||
		    sgt_table_init_from_pages(&stale, &params, &pages, 0, kPs, 0x10000,
					      SGT_MAY_SLEEP) ||
		    sgt_table_init_from_pages(&mt, &params, &pages, 0, 2 * kPs, 0x10000,
					      SGT_MAY_SLEEP))
			abort();
		sgt_table_cleanup(&stale);
		memset(&garbage, 0xa5, sizeof(garbage));
		memcpy(&copy, &t, sizeof(t));
		sgt_simiommu_params sp{};
		sp.mode = SGT_SIMIOMMU_IOMMU;
		sp.mem = &mem.mem;
		if (sgt_simiommu_new(&sp, &sim))
			abort();
		dev = sgt_simiommu_device(sim);
		if (sgt_dma_debug_enable(dev, nullptr) ||
		    sgt_table_map(&mt, dev, SGT_DMA_BIDIRECTIONAL, 0, &m, SGT_MAY_SLEEP))
			abort();
		sgt_iova_params ip{ kShift, &win, 1, nullptr, 0, 0, 4, nullptr, false };
		uint64_t a;
		// A cache that holds blocks and one live range of its own.
		if (sgt_iova_new(&ip, &iova) || sgt_iova_cache_new(iova, &cache) ||
		    sgt_iova_cache_alloc(cache, kPs, UINT64_MAX, &a))
			abort();
	}

	// What a bad call must not change.
	std::string fingerprint()
	{
		std::ostringstream o;
		auto ents = [&](const sgt_cpu *c) {
			const sgt_sg_table *raw = nullptr;
			if (sgt_cpu_sg_table(c, &raw)) {
				o << "dead;";
				return;
			}
			o << raw->num_cpu_ents << '/' << raw->num_dma_ents << '/' << raw->total_len
			  << ':';
			sgt_pos pos;
			for (const sgt_entry *e = sgt_sg_first(raw, &pos); e; e = sgt_sg_next(&pos))
				o << e->pfn << ',' << e->offset << ',' << e->len << ','
				  << e->dma_addr << ',' << e->dma_len << ';';
		};
		ents(&t.cpu);
		ents(&m.dma.cpu);
		sgt_iova_stats st{};
		sgt_iova_get_stats(iova, &st);
		const char *why = nullptr;
		o << "|iova check " << sgt_iova_check(iova, &why) << (why ? why : "");
		o << "|alloc " << sgt_test_alloc_live(&alloc) << '/' << alloc.live_bytes
		  << "|pages " << mem.live_page_allocs << "|mapped " << mem.mapped << "|sim "
		  << sgt_simiommu_live_mappings(sim) << "|dbg " << sgt_dma_debug_live(dev) << '/'
		  << sgt_dma_debug_num_reports(dev) << "|iova " << st.live_ranges << '/'
		  << st.free_granules << '/' << st.magazine_hits;
		for (uint64_t i = 0; i < 16 * kPs; i += 97)
			o << (int)*sgt_test_mem_byte(&mem, kBase + i / kPs, i % kPs);
		return o.str();
	}

	// Tear down; anything left allocated is a leak the bad call caused.
	bool teardown_clean()
	{
		sgt_mapping_cleanup(&m);
		sgt_table_cleanup(&t);
		sgt_iova_free(iova);
		uint64_t leaks = sgt_simiommu_free(sim);
		bool clean = leaks == 0 && sgt_test_alloc_live(&alloc) == 0 &&
			     !alloc.size_mismatch && mem.live_page_allocs == 0 && mem.mapped == 0;
		sgt_test_mem_cleanup(&mem);
		return clean;
	}
};

struct Case {
	const char *fn; // the public function this case calls
	const char *what; // the class of bad input
	int want; // the error it must return, or kNoError
	std::function<int(World &)> call;
};

// A garbage pointer that must never be dereferenced is not a class of input sgt can defend
// against; NULL, stale, uninitialised (but readable) and copied storage are.
std::vector<Case> cases()
{
	const int kEinval = -SGT_EINVAL, kEstale = -SGT_ESTALE, kErange = -SGT_ERANGE;
	auto stale = [](World &w) { return &w.stale.cpu; };
	auto garb = [](World &w) { return &w.garbage.cpu; };
	auto copy = [](World &w) { return &w.copy.cpu; };
	std::vector<Case> all;
	auto add = [&](const char *fn, const char *what, int want, std::function<int(World &)> f) {
		all.push_back({ fn, what, want, std::move(f) });
	};
	// Handles in every bad state, for the functions that take a CPU view.
	struct BadCpu {
		const char *what;
		int want;
		std::function<const sgt_cpu *(World &)> get;
	};
	const std::vector<BadCpu> bad_cpu = {
		{ "NULL handle", kEinval, [](World &) -> const sgt_cpu * { return nullptr; } },
		{ "stale handle", kEstale, stale },
		{ "uninitialised handle", kEinval, garb },
		{ "handle copied by value", kEinval, copy },
	};
	for (const auto &b : bad_cpu) {
		auto g = b.get;
		add("sgt_copy_to_buffer", b.what, b.want,
		    [g](World &w) { return sgt_copy_to_buffer(g(w), 0, g_buf, 8, &g_n); });
		add("sgt_copy_from_buffer", b.what, b.want,
		    [g](World &w) { return sgt_copy_from_buffer(g(w), 0, g_buf, 8, &g_n); });
		add("sgt_zero", b.what, b.want,
		    [g](World &w) { return sgt_zero(g(w), 0, 8, &g_n); });
		add("sgt_ent_iter_init", b.what, b.want, [g](World &w) {
			sgt_ent_iter it;
			return sgt_ent_iter_init(&it, g(w));
		});
		add("sgt_page_iter_init", b.what, b.want, [g](World &w) {
			sgt_page_iter it;
			return sgt_page_iter_init(&it, g(w), 0);
		});
		add("sgt_miter_start", b.what, b.want, [g](World &w) {
			sgt_miter it;
			return sgt_miter_start(&it, g(w), 0);
		});
		add("sgt_cpu_check", b.what, b.want, [g](World &w) { return sgt_cpu_check(g(w)); });
		add("sgt_cpu_sg_table", b.what, b.want, [g](World &w) {
			const sgt_sg_table *raw;
			return sgt_cpu_sg_table(g(w), &raw);
		});
		add("sgt_cpu_info", b.what, b.want, [g](World &w) {
			uint32_t ne;
			uint64_t len;
			return sgt_cpu_info(g(w), &ne, &len);
		});
		add("sgt_nents_for_len", b.what, b.want, [g](World &w) {
			uint32_t k;
			return sgt_nents_for_len(g(w), 1, &k);
		});
		add("sgt_split", b.what, b.want, [g](World &w) {
			sgt_table out;
			const uint64_t len = 1;
			return sgt_split(g(w), 0, 1, &len, &w.params, &out, SGT_MAY_SLEEP);
		});
	}
	// NULL outputs and bad values, with a live handle.
	add("sgt_copy_to_buffer", "NULL buffer", kEinval,
	    [](World &w) { return sgt_copy_to_buffer(&w.t.cpu, 0, nullptr, 8, &g_n); });
	// Documented as valid, not bad: a NULL count, and a skip past the end (nothing to copy).
	add("sgt_copy_to_buffer", "skip past the end, no count wanted", kNoError,
	    [](World &w) { return sgt_copy_to_buffer(&w.t.cpu, 4 * kPs, g_buf, 8, nullptr); });
	add("sgt_copy_from_buffer", "NULL buffer", kEinval,
	    [](World &w) { return sgt_copy_from_buffer(&w.t.cpu, 0, nullptr, 8, &g_n); });
	add("sgt_copy_from_buffer", "skip at the largest offset", kNoError, [](World &w) {
		return sgt_copy_from_buffer(&w.t.cpu, UINT64_MAX, g_buf, 8, &g_n) || g_n;
	});
	add("sgt_zero", "skip past the end, a length that would wrap", kNoError,
	    [](World &w) { return sgt_zero(&w.t.cpu, 3 * kPs, SIZE_MAX, &g_n) || g_n; });
	add("sgt_ent_iter_init", "NULL iterator", kEinval,
	    [](World &w) { return sgt_ent_iter_init(nullptr, &w.t.cpu); });
	add("sgt_page_iter_init", "NULL iterator", kEinval,
	    [](World &w) { return sgt_page_iter_init(nullptr, &w.t.cpu, 0); });
	add("sgt_miter_start", "NULL iterator", kEinval,
	    [](World &w) { return sgt_miter_start(nullptr, &w.t.cpu, 0); });
	add("sgt_cpu_sg_table", "NULL output", kEinval,
	    [](World &w) { return sgt_cpu_sg_table(&w.t.cpu, nullptr); });
	add("sgt_nents_for_len", "NULL output", kEinval,
	    [](World &w) { return sgt_nents_for_len(&w.t.cpu, 1, nullptr); });
	add("sgt_nents_for_len", "length past the end", kErange, [](World &w) {
		uint32_t k;
		return sgt_nents_for_len(&w.t.cpu, 3 * kPs + 1, &k);
	});
	add("sgt_split", "NULL lengths", kEinval, [](World &w) {
		sgt_table out;
		return sgt_split(&w.t.cpu, 0, 1, nullptr, &w.params, &out, SGT_MAY_SLEEP);
	});
	add("sgt_split", "NULL outputs", kEinval, [](World &w) {
		const uint64_t len = 1;
		return sgt_split(&w.t.cpu, 0, 1, &len, &w.params, nullptr, SGT_MAY_SLEEP);
	});
	add("sgt_split", "zero splits", kEinval, [](World &w) {
		sgt_table out;
		const uint64_t len = 1;
		return sgt_split(&w.t.cpu, 0, 0, &len, &w.params, &out, SGT_MAY_SLEEP);
	});
	add("sgt_split", "a zero length", kEinval, [](World &w) {
		sgt_table out;
		const uint64_t len = 0;
		return sgt_split(&w.t.cpu, 0, 1, &len, &w.params, &out, SGT_MAY_SLEEP);
	});
	add("sgt_split", "past the end", kErange, [](World &w) {
		sgt_table out;
		const uint64_t len = 3 * kPs;
		return sgt_split(&w.t.cpu, 1, 1, &len, &w.params, &out, SGT_MAY_SLEEP);
	});
	add("sgt_split", "bad allocation context", kEinval, [](World &w) {
		sgt_table out;
		const uint64_t len = 1;
		return sgt_split(&w.t.cpu, 0, 1, &len, &w.params, &out, (sgt_alloc_ctx)9);
	});
	add("sgt_split", "output is the input", kEinval, [](World &w) {
		const uint64_t len = 1;
		return sgt_split(&w.t.cpu, 0, 1, &len, &w.params, &w.t, SGT_MAY_SLEEP);
	});

	// Iterators' next and stop: never a crash, whatever storage they are handed.
	add("sgt_ent_iter_next", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt_ent_iter_next(nullptr); });
	add("sgt_page_iter_next", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt_page_iter_next(nullptr); });
	add("sgt__ent_iter_step", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt__ent_iter_step(nullptr); });
	add("sgt__page_iter_step", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt__page_iter_step(nullptr); });
	add("sgt_miter_next", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt_miter_next(nullptr); });
	add("sgt_miter_stop", "NULL iterator", kNoError, [](World &) {
		sgt_miter_stop(nullptr);
		return 0;
	});
	add("sgt_miter_error", "NULL iterator", kEinval,
	    [](World &) { return sgt_miter_error(nullptr); });
	add("sgt_dma_iter_next", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt_dma_iter_next(nullptr); });
	add("sgt_dma_page_iter_next", "NULL iterator", kNoError,
	    [](World &) { return (int)sgt_dma_page_iter_next(nullptr); });

	// Construction.
	add("sgt_pages_from_array", "NULL provider", kNoError, [](World &w) {
		sgt_pages_from_array(nullptr, w.pfns, 3);
		return 0;
	});
	add("sgt_table_init", "NULL handle", kEinval,
	    [](World &w) { return sgt_table_init(nullptr, &w.params); });
	add("sgt_table_init", "allocator without free", kEinval, [](World &w) {
		sgt_allocator a = w.alloc.alloc;
		a.free = nullptr;
		sgt_table_params p = { &a, &w.mem.mem, 0 };
		sgt_table t;
		return sgt_table_init(&t, &p);
	});
	add("sgt_table_init", "page shift out of range", kEinval, [](World &w) {
		sgt_memory mem = w.mem.mem;
		mem.page_shift = 64;
		sgt_table_params p = { &w.alloc.alloc, &mem, 0 };
		sgt_table t;
		return sgt_table_init(&t, &p);
	});
	add("sgt_table_init_from_pages", "NULL handle", kEinval, [](World &w) {
		return sgt_table_init_from_pages(nullptr, &w.params, &w.pages, 0, kPs, 0x10000,
						 SGT_MAY_SLEEP);
	});
	add("sgt_table_init_from_pages", "NULL pages", kEinval, [](World &w) {
		sgt_table t;
		return sgt_table_init_from_pages(&t, &w.params, nullptr, 0, kPs, 0x10000,
						 SGT_MAY_SLEEP);
	});
	add("sgt_table_init_from_pages", "offset of a whole page", kEinval, [](World &w) {
		sgt_table t;
		return sgt_table_init_from_pages(&t, &w.params, &w.pages, kPs, kPs, 0x10000,
						 SGT_MAY_SLEEP);
	});
	add("sgt_table_init_from_pages", "more bytes than pages", kErange, [](World &w) {
		sgt_table t;
		return sgt_table_init_from_pages(&t, &w.params, &w.pages, 0, 4 * kPs, 0x10000,
						 SGT_MAY_SLEEP);
	});
	add("sgt_table_init_from_pages", "bad allocation context", kEinval, [](World &w) {
		sgt_table t;
		return sgt_table_init_from_pages(&t, &w.params, &w.pages, 0, kPs, 0x10000,
						 (sgt_alloc_ctx)-1);
	});
	add("sgt_table_append_pages", "stale handle", kEstale, [](World &w) {
		return sgt_table_append_pages(&w.stale, &w.pages, 0, kPs, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_append_pages", "uninitialised handle", kEinval, [](World &w) {
		return sgt_table_append_pages(&w.garbage, &w.pages, 0, kPs, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_append_pages", "handle copied by value", kEinval, [](World &w) {
		return sgt_table_append_pages(&w.copy, &w.pages, 0, kPs, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_append_pages", "NULL pages", kEinval, [](World &w) {
		return sgt_table_append_pages(&w.t, nullptr, 0, kPs, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_append_pages", "zero size", kEinval, [](World &w) {
		return sgt_table_append_pages(&w.t, &w.pages, 0, 0, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_append_pages", "max_segment under a page", kEinval, [](World &w) {
		return sgt_table_append_pages(&w.t, &w.pages, 0, kPs, 100, SGT_MAY_SLEEP);
	});
	add("sgt_table_append_pages", "a table that owns its pages (alloc_order)", kEinval,
	    [](World &w) {
		    sgt_table a;
		    if (sgt_table_init_alloc_order(&a, &w.params, kPs, 0, SGT_MAY_SLEEP))
			    return -1;
		    int err = sgt_table_append_pages(&a, &w.pages, 0, kPs, 0x10000, SGT_MAY_SLEEP);
		    sgt_table_cleanup(&a);
		    return err;
	    });
	add("sgt_table_append_pages", "a borrowed view passed as a table", kEinval, [](World &w) {
		sgt_table fake;
		memset(&fake, 0, sizeof(fake));
		if (sgt_borrowed_init(reinterpret_cast<sgt_borrowed *>(&fake), &w.t.sgt__own))
			return -1;
		return sgt_table_append_pages(&fake, &w.pages, 0, kPs, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_init_from_pages", "an allocator without alloc", kEinval, [](World &w) {
		sgt_allocator a = w.alloc.alloc;
		a.alloc = nullptr;
		sgt_table_params p = { &a, &w.mem.mem, 0 };
		sgt_table t;
		return sgt_table_init_from_pages(&t, &p, &w.pages, 0, kPs, 0x10000, SGT_MAY_SLEEP);
	});
	add("sgt_table_init_alloc_order", "an allocator without alloc", kEinval, [](World &w) {
		sgt_allocator a = w.alloc.alloc;
		a.alloc = nullptr;
		sgt_table_params p = { &a, &w.mem.mem, 0 };
		sgt_table t;
		return sgt_table_init_alloc_order(&t, &p, kPs, 0, SGT_MAY_SLEEP);
	});
	add("sgt_split", "a split count no array can hold", kEinval, [](World &w) {
		sgt_table out;
		const uint64_t len = 1;
		return sgt_split(&w.t.cpu, 0, SIZE_MAX / 2, &len, &w.params, &out, SGT_MAY_SLEEP);
	});
	add("sgt_table_init_alloc_order", "NULL handle", kEinval, [](World &w) {
		return sgt_table_init_alloc_order(nullptr, &w.params, kPs, 0, SGT_MAY_SLEEP);
	});
	add("sgt_table_init_alloc_order", "order too large", kEinval, [](World &w) {
		sgt_table t;
		return sgt_table_init_alloc_order(&t, &w.params, kPs, 40, SGT_MAY_SLEEP);
	});
	add("sgt_table_init_alloc_order", "zero length", kEinval, [](World &w) {
		sgt_table t;
		return sgt_table_init_alloc_order(&t, &w.params, 0, 0, SGT_MAY_SLEEP);
	});
	add("sgt_table_cleanup", "NULL, stale, uninitialised, copied", kNoError, [](World &w) {
		sgt_table_cleanup(nullptr);
		sgt_table_cleanup(&w.stale);
		sgt_table_cleanup(&w.garbage);
		sgt_table_cleanup(&w.copy);
		return 0;
	});
	add("sgt_borrowed_init", "NULL handle", kEinval, [](World &w) {
		const sgt_sg_table *raw;
		if (sgt_cpu_sg_table(&w.t.cpu, &raw))
			return -1;
		return sgt_borrowed_init(nullptr, raw);
	});
	add("sgt_borrowed_init", "NULL table", kEinval, [](World &) {
		sgt_borrowed b;
		return sgt_borrowed_init(&b, nullptr);
	});
	add("sgt_borrowed_init", "table with a broken invariant", kEinval, [](World &w) {
		sgt_sg_table raw = w.t.sgt__own;
		raw.total_len++;
		sgt_borrowed b;
		return sgt_borrowed_init(&b, &raw);
	});
	add("sgt_borrowed_cleanup", "NULL and uninitialised", kNoError, [](World &w) {
		sgt_borrowed_cleanup(nullptr);
		sgt_borrowed_cleanup(reinterpret_cast<sgt_borrowed *>(&w.garbage));
		return 0;
	});
	add("sgt_memory_check", "NULL domain", kEinval,
	    [](World &) { return sgt_memory_check(nullptr); });
	add("sgt_memory_check", "alloc_pages without free_pages", kEinval, [](World &w) {
		sgt_memory mem = w.mem.mem;
		mem.free_pages = nullptr;
		return sgt_memory_check(&mem);
	});
	add("sgt_memory_identity_init", "NULL domain", kEinval,
	    [](World &) { return sgt_memory_identity_init(nullptr, 12); });
	add("sgt_memory_identity_init", "page shift out of range", kEinval, [](World &) {
		sgt_memory m;
		return sgt_memory_identity_init(&m, 64);
	});

	// The raw table.
	add("sgt_sg_table_check", "NULL table", kEinval,
	    [](World &) { return sgt_sg_table_check(nullptr, nullptr); });
	add("sgt_sg_table_is_valid", "NULL table", kNoError,
	    [](World &) { return sgt_sg_table_is_valid(nullptr) ? -1 : 0; });
	add("sgt_sg_first", "NULL table and position", kNoError, [](World &w) {
		sgt_pos pos;
		return sgt_sg_first(nullptr, &pos) || sgt_sg_first(&w.t.sgt__own, nullptr) ? -1 : 0;
	});
	add("sgt_sg_next", "NULL position", kNoError,
	    [](World &) { return sgt_sg_next(nullptr) ? -1 : 0; });
	add("sgt_sg_last", "NULL table", kNoError,
	    [](World &) { return sgt_sg_last(nullptr) ? -1 : 0; });

	// Errors and the platform.
	add("sgt_strerror", "codes sgt never returns", kNoError, [](World &) {
		return strcmp(sgt_strerror(-99999), "unknown error") || !sgt_strerror(INT32_MIN) ||
				       !sgt_strerror(12345)
			       ? -1
			       : 0;
	});
	add("sgt_errname", "codes sgt never returns", kNoError,
	    [](World &) { return strcmp(sgt_errname(-99999), "-E?") || !sgt_errname(INT32_MIN); });
	add("sgt_platform_allocator", "no input to get wrong", kNoError,
	    [](World &) { return sgt_platform_allocator() ? 0 : -1; });
	add("sgt_platform_memory", "no input to get wrong", kNoError,
	    [](World &) { return sgt_platform_memory() ? 0 : -1; });
	add("sgt_platform_lock_new", "no input to get wrong", kNoError, [](World &) {
		void *l = sgt_platform_lock_new();
		sgt_platform_lock(l);
		sgt_platform_unlock(l);
		sgt_platform_lock_free(l);
		return l ? 0 : -1;
	});
	add("sgt_platform_lock_free", "NULL lock", kNoError, [](World &) {
		sgt_platform_lock_free(nullptr);
		return 0;
	});
	add("sgt_platform_lock", "NULL lock", kNoError, [](World &) {
		sgt_platform_lock(nullptr);
		return 0;
	});
	add("sgt_platform_unlock", "NULL lock", kNoError, [](World &) {
		sgt_platform_unlock(nullptr);
		return 0;
	});

	// Devices, the debug layer and the raw DMA API.
	add("sgt_device_init", "NULL device", kEinval,
	    [](World &w) { return sgt_device_init(nullptr, w.dev->ops, w.sim, nullptr, nullptr); });
	add("sgt_device_init", "NULL ops", kEinval, [](World &w) {
		sgt_device d;
		return sgt_device_init(&d, nullptr, w.sim, nullptr, nullptr);
	});
	add("sgt_device_init", "ops without map_sg", kEinval, [](World &w) {
		sgt_dma_ops ops = *w.dev->ops;
		ops.map_sg = nullptr;
		sgt_device d;
		return sgt_device_init(&d, &ops, w.sim, nullptr, nullptr);
	});
	add("sgt_device_init", "alignment not a power of two", kEinval, [](World &w) {
		sgt_device_params p{};
		p.alignment = 24;
		sgt_device d;
		return sgt_device_init(&d, w.dev->ops, w.sim, &p, nullptr);
	});
	add("sgt_device_cleanup", "NULL and uninitialised devices", kNoError, [](World &) {
		sgt_device d{};
		return (int)(sgt_device_cleanup(nullptr) + sgt_device_cleanup(&d));
	});
	add("sgt_dma_debug_enable", "NULL device", kEinval,
	    [](World &) { return sgt_dma_debug_enable(nullptr, nullptr); });
	add("sgt_dma_debug_enable", "uninitialised device", kEinval, [](World &) {
		sgt_device d{};
		return sgt_dma_debug_enable(&d, nullptr);
	});
	add("sgt_dma_debug_enable", "already on", -SGT_EBUSY,
	    [](World &w) { return sgt_dma_debug_enable(w.dev, nullptr); });
	// On the world's device, whose layer is on: the allocator must be refused before that
	// (-EBUSY) is even looked at.
	add("sgt_dma_debug_enable", "an allocator without free", kEinval, [](World &w) {
		sgt_allocator a = *sgt_platform_allocator();
		a.free = nullptr;
		sgt_dma_debug_params p{ &a, nullptr, nullptr };
		return sgt_dma_debug_enable(w.dev, &p);
	});
	add("sgt_dma_debug_count", "a device with the layer off", kNoError, [](World &w) {
		sgt_device d = *w.dev;
		d.sgt__debug = nullptr;
		return (int)sgt_dma_debug_count(&d, SGT_REPORT_DOUBLE_UNMAP);
	});
	add("sgt_dma_debug_count", "NULL device, kind out of range", kNoError, [](World &w) {
		return (int)(sgt_dma_debug_count(nullptr, SGT_REPORT_DOUBLE_UNMAP) +
			     sgt_dma_debug_count(w.dev, (sgt_dma_report_kind)1000));
	});
	add("sgt_dma_debug_num_reports", "NULL device", kNoError,
	    [](World &) { return (int)sgt_dma_debug_num_reports(nullptr); });
	add("sgt_dma_debug_msg", "NULL device, index past the end", kNoError, [](World &w) {
		return sgt_dma_debug_msg(nullptr, 0) || sgt_dma_debug_msg(w.dev, UINT64_MAX) ? -1
											     : 0;
	});
	add("sgt_dma_debug_clear", "NULL device", kNoError, [](World &) {
		sgt_dma_debug_clear(nullptr);
		return 0;
	});
	add("sgt_dma_debug_live", "NULL device", kNoError,
	    [](World &) { return (int)sgt_dma_debug_live(nullptr); });
	add("sgt_dma_report_name", "kind out of range", kNoError, [](World &) {
		return strcmp(sgt_dma_report_name((sgt_dma_report_kind)-1), "unknown");
	});
	add("sgt_dma_map_sg", "NULL device", kEinval, [](World &w) {
		uint32_t k;
		return sgt_dma_map_sg(nullptr, &w.t.sgt__own, SGT_DMA_TO_DEVICE, 0, &k,
				      SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "uninitialised device", kEinval, [](World &w) {
		sgt_device d{};
		uint32_t k;
		return sgt_dma_map_sg(&d, &w.t.sgt__own, SGT_DMA_TO_DEVICE, 0, &k, SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "NULL table", kEinval, [](World &w) {
		uint32_t k;
		return sgt_dma_map_sg(w.dev, nullptr, SGT_DMA_TO_DEVICE, 0, &k, SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "NULL count", kEinval, [](World &w) {
		return sgt_dma_map_sg(w.dev, &w.t.sgt__own, SGT_DMA_TO_DEVICE, 0, nullptr,
				      SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "direction NONE", kEinval, [](World &w) {
		uint32_t k;
		return sgt_dma_map_sg(w.dev, &w.t.sgt__own, SGT_DMA_NONE, 0, &k, SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "bad allocation context", kEinval, [](World &w) {
		uint32_t k;
		return sgt_dma_map_sg(w.dev, &w.t.sgt__own, SGT_DMA_TO_DEVICE, 0, &k,
				      (sgt_alloc_ctx)5);
	});
	add("sgt_dma_map_sg", "an empty table", kEinval, [](World &w) {
		sgt_table e;
		uint32_t k;
		if (sgt_table_init(&e, &w.params))
			return -1;
		return sgt_dma_map_sg(w.dev, &e.sgt__own, SGT_DMA_TO_DEVICE, 0, &k, SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "an unmapped table naming a device", kEinval, [](World &w) {
		sgt_sg_table raw = w.t.sgt__own;
		raw.dma_dev = w.dev;
		uint32_t k;
		return sgt_dma_map_sg(w.dev, &raw, SGT_DMA_TO_DEVICE, 0, &k, SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "a table with a broken invariant", kEinval, [](World &w) {
		sgt_sg_table raw = w.t.sgt__own;
		raw.total_len--;
		uint32_t k;
		return sgt_dma_map_sg(w.dev, &raw, SGT_DMA_TO_DEVICE, 0, &k, SGT_MAY_SLEEP);
	});
	add("sgt_dma_map_sg", "a table already mapped", kEinval, [](World &w) {
		uint32_t k;
		return sgt_dma_map_sg(w.dev, &w.m.sgt__owner.sgt__own, SGT_DMA_TO_DEVICE, 0, &k,
				      SGT_MAY_SLEEP);
	});
	add("sgt_dma_unmap_sg", "NULL device", kEinval, [](World &w) {
		return sgt_dma_unmap_sg(nullptr, &w.m.sgt__owner.sgt__own, 2, SGT_DMA_BIDIRECTIONAL,
					0);
	});
	add("sgt_dma_unmap_sg", "NULL table", kEinval,
	    [](World &w) { return sgt_dma_unmap_sg(w.dev, nullptr, 2, SGT_DMA_BIDIRECTIONAL, 0); });
	add("sgt_dma_unmap_sg", "direction out of range", kEinval, [](World &w) {
		return sgt_dma_unmap_sg(w.dev, &w.m.sgt__owner.sgt__own, 2, (sgt_dma_dir)7, 0);
	});
	for (bool cpu : { true, false }) {
		auto sync = cpu ? sgt_dma_sync_sg_for_cpu : sgt_dma_sync_sg_for_device;
		const char *fn = cpu ? "sgt_dma_sync_sg_for_cpu" : "sgt_dma_sync_sg_for_device";
		add(fn, "NULL device", kEinval, [sync](World &w) {
			return sync(nullptr, &w.m.sgt__owner.sgt__own, 2, SGT_DMA_BIDIRECTIONAL);
		});
		add(fn, "NULL table", kEinval,
		    [sync](World &w) { return sync(w.dev, nullptr, 2, SGT_DMA_BIDIRECTIONAL); });
		add(fn, "direction NONE", kEinval, [sync](World &w) {
			return sync(w.dev, &w.m.sgt__owner.sgt__own, 2, SGT_DMA_NONE);
		});
	}
	add("sgt_device_caps", "NULL device", kEinval, [](World &) {
		sgt_dma_caps c;
		return sgt_device_caps(nullptr, &c);
	});
	add("sgt_device_caps", "NULL output", kEinval,
	    [](World &w) { return sgt_device_caps(w.dev, nullptr); });
	add("sgt_dma_check_segments", "NULL table", kEinval,
	    [](World &w) { return sgt_dma_check_segments(nullptr, &w.dev->params, nullptr); });
	add("sgt_dma_check_segments", "NULL parameters", kEinval,
	    [](World &w) { return sgt_dma_check_segments(&w.t.sgt__own, nullptr, nullptr); });

	// Mapped handles.
	add("sgt_table_map", "NULL table", kEinval, [](World &w) {
		sgt_mapping m;
		return sgt_table_map(nullptr, w.dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	});
	add("sgt_table_map", "stale table", kEstale, [](World &w) {
		sgt_mapping m;
		return sgt_table_map(&w.stale, w.dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	});
	add("sgt_table_map", "table copied by value", kEinval, [](World &w) {
		sgt_mapping m;
		return sgt_table_map(&w.copy, w.dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	});
	add("sgt_table_map", "a borrowed view passed as a table", kEinval, [](World &w) {
		sgt_table fake;
		memset(&fake, 0, sizeof(fake));
		if (sgt_borrowed_init(reinterpret_cast<sgt_borrowed *>(&fake), &w.t.sgt__own))
			return -1;
		sgt_mapping m;
		return sgt_table_map(&fake, w.dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	});
	add("sgt_table_map", "NULL device", kEinval, [](World &w) {
		sgt_mapping m;
		return sgt_table_map(&w.t, nullptr, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP);
	});
	add("sgt_table_map", "NULL output", kEinval, [](World &w) {
		return sgt_table_map(&w.t, w.dev, SGT_DMA_TO_DEVICE, 0, nullptr, SGT_MAY_SLEEP);
	});
	add("sgt_table_map", "bad direction", kEinval, [](World &w) {
		sgt_mapping m;
		return sgt_table_map(&w.t, w.dev, (sgt_dma_dir)-1, 0, &m, SGT_MAY_SLEEP);
	});
	add("sgt_mapping_unmap", "NULL mapping", kEinval, [](World &) {
		sgt_table out;
		return sgt_mapping_unmap(nullptr, &out);
	});
	add("sgt_mapping_unmap", "NULL output", kEinval,
	    [](World &w) { return sgt_mapping_unmap(&w.m, nullptr); });
	add("sgt_mapping_unmap", "mapping copied by value", kEinval, [](World &w) {
		sgt_mapping c;
		memcpy(&c, &w.m, sizeof(c));
		sgt_table out;
		return sgt_mapping_unmap(&c, &out);
	});
	add("sgt_mapping_unmap", "a borrowed mapping passed as a mapping", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		if (sgt_borrowed_mapping_init(&bm, &w.m.sgt__owner.sgt__own, w.dev,
					      SGT_DMA_BIDIRECTIONAL))
			return -1;
		sgt_mapping fake;
		memset(&fake, 0, sizeof(fake));
		fake.dma = bm.dma;
		sgt_table out;
		return sgt_mapping_unmap(&fake, &out);
	});
	add("sgt_mapping_unmap", "uninitialised mapping", kEinval, [](World &w) {
		sgt_table out;
		return sgt_mapping_unmap(reinterpret_cast<sgt_mapping *>(&w.garbage), &out);
	});
	add("sgt_mapping_cleanup", "NULL, copied, uninitialised", kNoError, [](World &w) {
		sgt_mapping c;
		memcpy(&c, &w.m, sizeof(c));
		sgt_mapping_cleanup(nullptr);
		sgt_mapping_cleanup(&c);
		sgt_mapping g;
		memset(&g, 0xa5, sizeof(g));
		sgt_mapping_cleanup(&g);
		return 0;
	});
	add("sgt_borrowed_mapping_init_foreign", "NULL foreign", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		sgt_sg_table raw = w.m.sgt__owner.sgt__own;
		raw.dma_dev = nullptr;
		raw.dma_priv = nullptr;
		raw.dma_dir = 0;
		return sgt_borrowed_mapping_init_foreign(&bm, &raw, w.dev, SGT_DMA_BIDIRECTIONAL,
							 nullptr);
	});
	add("sgt_borrowed_mapping_init_foreign", "a table sgt mapped", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		int foreign;
		return sgt_borrowed_mapping_init_foreign(&bm, &w.m.sgt__owner.sgt__own, w.dev,
							 SGT_DMA_BIDIRECTIONAL, &foreign);
	});
	add("sgt_borrowed_mapping_init_foreign", "NULL table, NULL handle", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		int foreign;
		if (sgt_borrowed_mapping_init_foreign(&bm, nullptr, w.dev, SGT_DMA_BIDIRECTIONAL,
						      &foreign) != -SGT_EINVAL)
			return -1;
		return sgt_borrowed_mapping_init_foreign(nullptr, nullptr, w.dev,
							 SGT_DMA_BIDIRECTIONAL, &foreign);
	});
	add("sgt_borrowed_mapping_init", "NULL handle", kEinval, [](World &w) {
		return sgt_borrowed_mapping_init(nullptr, &w.m.sgt__owner.sgt__own, w.dev,
						 SGT_DMA_BIDIRECTIONAL);
	});
	add("sgt_borrowed_mapping_init", "uninitialised device", kEinval, [](World &w) {
		sgt_device d{};
		sgt_borrowed_mapping bm;
		return sgt_borrowed_mapping_init(&bm, &w.m.sgt__owner.sgt__own, &d,
						 SGT_DMA_BIDIRECTIONAL);
	});
	add("sgt_borrowed_mapping_init", "direction NONE", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		return sgt_borrowed_mapping_init(&bm, &w.m.sgt__owner.sgt__own, w.dev,
						 SGT_DMA_NONE);
	});
	add("sgt_borrowed_mapping_init", "a mapped table with a broken invariant", kEinval,
	    [](World &w) {
		    sgt_sg_table raw = w.m.sgt__owner.sgt__own;
		    raw.total_len++;
		    sgt_borrowed_mapping bm;
		    return sgt_borrowed_mapping_init(&bm, &raw, w.dev, SGT_DMA_BIDIRECTIONAL);
	    });
	add("sgt_borrowed_mapping_init", "a table mapped for another device", kEinval,
	    [](World &w) {
		    sgt_device other = *w.dev;
		    sgt_borrowed_mapping bm;
		    return sgt_borrowed_mapping_init(&bm, &w.m.sgt__owner.sgt__own, &other,
						     SGT_DMA_BIDIRECTIONAL);
	    });
	add("sgt_borrowed_mapping_init", "NULL table", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		return sgt_borrowed_mapping_init(&bm, nullptr, w.dev, SGT_DMA_BIDIRECTIONAL);
	});
	add("sgt_borrowed_mapping_init", "an unmapped table", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		return sgt_borrowed_mapping_init(&bm, &w.t.sgt__own, w.dev, SGT_DMA_BIDIRECTIONAL);
	});
	add("sgt_borrowed_mapping_init", "another direction than the map's", kEinval, [](World &w) {
		sgt_borrowed_mapping bm;
		return sgt_borrowed_mapping_init(&bm, &w.m.sgt__owner.sgt__own, w.dev,
						 SGT_DMA_TO_DEVICE);
	});
	add("sgt_borrowed_mapping_cleanup", "NULL and uninitialised", kNoError, [](World &w) {
		sgt_borrowed_mapping_cleanup(nullptr);
		sgt_borrowed_mapping_cleanup(reinterpret_cast<sgt_borrowed_mapping *>(&w.garbage));
		return 0;
	});
	struct BadDma {
		const char *what;
		int want;
		std::function<const sgt_dma *(World &)> get;
	};
	const std::vector<BadDma> bad_dma = {
		{ "NULL handle", kEinval, [](World &) -> const sgt_dma * { return nullptr; } },
		{ "uninitialised handle", kEinval,
		  [](World &w) { return reinterpret_cast<const sgt_dma *>(&w.garbage); } },
		{ "an unmapped table's view cast to a DMA view", kEinval,
		  [](World &w) { return reinterpret_cast<const sgt_dma *>(&w.t.cpu); } },
	};
	for (const auto &b : bad_dma) {
		auto g = b.get;
		add("sgt_dma_info", b.what, b.want, [g](World &w) {
			uint32_t k;
			return sgt_dma_info(g(w), &k);
		});
		add("sgt_dma_sync_for_cpu", b.what, b.want,
		    [g](World &w) { return sgt_dma_sync_for_cpu(g(w)); });
		add("sgt_dma_sync_for_device", b.what, b.want,
		    [g](World &w) { return sgt_dma_sync_for_device(g(w)); });
		add("sgt_dma_iter_init", b.what, b.want, [g](World &w) {
			sgt_dma_iter it;
			return sgt_dma_iter_init(&it, g(w));
		});
		add("sgt_dma_page_iter_init", b.what, b.want, [g](World &w) {
			sgt_dma_page_iter it;
			return sgt_dma_page_iter_init(&it, g(w));
		});
	}
	add("sgt_dma_info", "NULL output", kEinval,
	    [](World &w) { return sgt_dma_info(&w.m.dma, nullptr); });
	add("sgt_dma_iter_init", "NULL iterator", kEinval,
	    [](World &w) { return sgt_dma_iter_init(nullptr, &w.m.dma); });
	add("sgt_dma_page_iter_init", "NULL iterator", kEinval,
	    [](World &w) { return sgt_dma_page_iter_init(nullptr, &w.m.dma); });

	// The simulated IOMMU.
	auto sim_params = [](World &w) {
		sgt_simiommu_params p{};
		p.mem = &w.mem.mem;
		return p;
	};
	add("sgt_simiommu_new", "NULL parameters", kEinval, [](World &) {
		sgt_simiommu *s;
		return sgt_simiommu_new(nullptr, &s);
	});
	add("sgt_simiommu_new", "NULL output", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		return sgt_simiommu_new(&p, nullptr);
	});
	add("sgt_simiommu_new", "no memory domain", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		p.mem = nullptr;
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	for (unsigned shift : { 0u, 8u, 31u, 64u, 200u }) {
		add("sgt_simiommu_new", "a domain with a page shift out of range", kEinval,
		    [sim_params, shift](World &w) {
			    sgt_memory mem = w.mem.mem;
			    mem.page_shift = shift;
			    sgt_simiommu_params p = sim_params(w);
			    p.mem = &mem;
			    sgt_simiommu *s;
			    return sgt_simiommu_new(&p, &s);
		    });
	}
	add("sgt_simiommu_new", "a domain without map_page", kEinval, [sim_params](World &w) {
		sgt_memory mem = w.mem.mem;
		mem.map_page = nullptr;
		sgt_simiommu_params p = sim_params(w);
		p.mem = &mem;
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	add("sgt_simiommu_new", "direct mode, page shift 64 (an undefined shift)", kEinval,
	    [sim_params](World &w) {
		    sgt_memory mem = w.mem.mem;
		    mem.page_shift = 64;
		    sgt_simiommu_params p = sim_params(w);
		    p.mode = SGT_SIMIOMMU_DIRECT;
		    p.mem = &mem;
		    sgt_simiommu *s;
		    return sgt_simiommu_new(&p, &s);
	    });
	add("sgt_simiommu_new", "alignment not a power of two", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		p.device.alignment = 48;
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	add("sgt_simiommu_new", "an allocator without alloc", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		sgt_allocator a = w.alloc.alloc;
		a.alloc = nullptr;
		p.alloc = &a;
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	add("sgt_simiommu_new", "mode out of range", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		p.mode = (sgt_simiommu_mode)9;
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	add("sgt_simiommu_new", "an empty IOVA window", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		p.iova_window = { 0x200000, 0x100000 };
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	add("sgt_simiommu_new", "a bounce pool above the mask", kEinval, [sim_params](World &w) {
		sgt_simiommu_params p = sim_params(w);
		p.mode = SGT_SIMIOMMU_BOUNCE;
		p.device.dma_mask = 0xffffff;
		sgt_simiommu *s;
		return sgt_simiommu_new(&p, &s);
	});
	add("sgt_simiommu_free", "NULL", kNoError,
	    [](World &) { return (int)sgt_simiommu_free(nullptr); });
	add("sgt_simiommu_device", "NULL", kNoError,
	    [](World &) { return sgt_simiommu_device(nullptr) ? -1 : 0; });
	add("sgt_simiommu_dma_read", "NULL device", kEinval,
	    [](World &) { return sgt_simiommu_dma_read(nullptr, 0x100000, g_buf, 8); });
	add("sgt_simiommu_dma_read", "NULL buffer", kEinval,
	    [](World &w) { return sgt_simiommu_dma_read(w.sim, 0x100000, nullptr, 8); });
	add("sgt_simiommu_dma_read", "an access that wraps past 2^64", -SGT_EFAULT,
	    [](World &w) { return sgt_simiommu_dma_read(w.sim, UINT64_MAX - 3, g_buf, 8); });
	add("sgt_simiommu_dma_write", "NULL device", kEinval,
	    [](World &) { return sgt_simiommu_dma_write(nullptr, 0x100000, g_buf, 8); });
	add("sgt_simiommu_dma_write", "NULL buffer", kEinval,
	    [](World &w) { return sgt_simiommu_dma_write(w.sim, 0x100000, nullptr, 8); });
	add("sgt_simiommu_set_inject", "NULL device", kNoError, [](World &) {
		sgt_simiommu_inject inj{ 1, 0, 0 };
		sgt_simiommu_set_inject(nullptr, &inj);
		return 0;
	});
	add("sgt_simiommu_num_faults", "NULL", kNoError,
	    [](World &) { return (int)sgt_simiommu_num_faults(nullptr); });
	add("sgt_simiommu_fault_at", "NULL device", kEinval, [](World &) {
		sgt_simiommu_fault f;
		return sgt_simiommu_fault_at(nullptr, 0, &f);
	});
	add("sgt_simiommu_fault_at", "NULL output", kEinval,
	    [](World &w) { return sgt_simiommu_fault_at(w.sim, 0, nullptr); });
	add("sgt_simiommu_fault_at", "index past the faults", kErange, [](World &w) {
		sgt_simiommu_fault f;
		return sgt_simiommu_fault_at(w.sim, 0, &f);
	});
	add("sgt_simiommu_clear_faults", "NULL", kNoError, [](World &) {
		sgt_simiommu_clear_faults(nullptr);
		return 0;
	});
	add("sgt_simiommu_live_mappings", "NULL", kNoError,
	    [](World &) { return (int)sgt_simiommu_live_mappings(nullptr); });
	add("sgt_simiommu_changes", "NULL", kNoError,
	    [](World &) { return (int)sgt_simiommu_changes(nullptr); });
	add("sgt_simiommu_check", "NULL", kEinval,
	    [](World &) { return sgt_simiommu_check(nullptr, nullptr); });

	// The IOVA allocator.
	add("sgt_iova_new", "NULL parameters", kEinval, [](World &) {
		sgt_iova *v;
		return sgt_iova_new(nullptr, &v);
	});
	add("sgt_iova_new", "NULL output", kEinval, [](World &w) {
		sgt_iova_params ip{ kShift, &w.win, 1, nullptr, 0, 0, 4, nullptr, false };
		return sgt_iova_new(&ip, nullptr);
	});
	add("sgt_iova_new", "no windows", kEinval, [](World &) {
		sgt_iova_params ip{ kShift, nullptr, 1, nullptr, 0, 0, 4, nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "granule shift out of range", kEinval, [](World &w) {
		sgt_iova_params ip{ 70, &w.win, 1, nullptr, 0, 0, 4, nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "overlapping windows", kEinval, [](World &w) {
		const sgt_dma_window two[2] = { w.win, { w.win.last, w.win.last + kPs } };
		sgt_iova_params ip{ kShift, two, 2, nullptr, 0, 0, 4, nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "a window that ends before it starts", kEinval, [](World &) {
		const sgt_dma_window bad = { 0x200000, 0x100000 };
		sgt_iova_params ip{ kShift, &bad, 1, nullptr, 0, 0, 4, nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "reserved ranges counted but NULL", kEinval, [](World &w) {
		sgt_iova_params ip{ kShift, &w.win, 1, nullptr, 2, 0, 4, nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "a reserved range that ends before it starts", kEinval, [](World &w) {
		const sgt_dma_window bad = { 0x200000, 0x100000 };
		sgt_iova_params ip{ kShift, &w.win, 1, &bad, 1, 0, 4, nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "more windows than allowed", kEinval, [](World &w) {
		sgt_iova_params ip{ kShift,  &w.win, SGT_DMA_MAX_WINDOWS + 1, nullptr, 0, 0, 4,
				    nullptr, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_new", "an allocator without free", kEinval, [](World &w) {
		sgt_allocator a = w.alloc.alloc;
		a.free = nullptr;
		sgt_iova_params ip{ kShift, &w.win, 1, nullptr, 0, 0, 4, &a, false };
		sgt_iova *v;
		return sgt_iova_new(&ip, &v);
	});
	add("sgt_iova_free", "NULL", kNoError, [](World &) {
		sgt_iova_free(nullptr);
		return 0;
	});
	add("sgt_iova_alloc", "NULL allocator", kEinval, [](World &) {
		uint64_t a;
		return sgt_iova_alloc(nullptr, kPs, UINT64_MAX, &a);
	});
	add("sgt_iova_alloc", "NULL output", kEinval,
	    [](World &w) { return sgt_iova_alloc(w.iova, kPs, UINT64_MAX, nullptr); });
	add("sgt_iova_alloc", "zero length", kEinval, [](World &w) {
		uint64_t a;
		return sgt_iova_alloc(w.iova, 0, UINT64_MAX, &a);
	});
	add("sgt_iova_alloc", "more than the space", -SGT_ENOSPC, [](World &w) {
		uint64_t a;
		return sgt_iova_alloc(w.iova, UINT64_MAX, UINT64_MAX, &a);
	});
	add("sgt_iova_release", "NULL allocator", kEinval,
	    [](World &) { return sgt_iova_release(nullptr, 0x100000, kPs); });
	add("sgt_iova_release", "a range never allocated", kEinval,
	    [](World &w) { return sgt_iova_release(w.iova, 0x100000, kPs); });
	add("sgt_iova_is_live", "NULL allocator", kNoError,
	    [](World &) { return sgt_iova_is_live(nullptr, 0) ? -1 : 0; });
	add("sgt_iova_get_stats", "NULL allocator and output", kNoError, [](World &w) {
		sgt_iova_stats st;
		sgt_iova_get_stats(nullptr, &st);
		sgt_iova_get_stats(w.iova, nullptr);
		return 0;
	});
	add("sgt_iova_check", "NULL", kEinval,
	    [](World &) { return sgt_iova_check(nullptr, nullptr); });
	add("sgt_iova_cache_new", "NULL allocator", kEinval, [](World &) {
		sgt_iova_cache *c;
		return sgt_iova_cache_new(nullptr, &c);
	});
	add("sgt_iova_cache_new", "NULL output", kEinval,
	    [](World &w) { return sgt_iova_cache_new(w.iova, nullptr); });
	add("sgt_iova_cache_alloc", "NULL cache", kEinval, [](World &) {
		uint64_t a;
		return sgt_iova_cache_alloc(nullptr, kPs, UINT64_MAX, &a);
	});
	add("sgt_iova_cache_alloc", "NULL output", kEinval,
	    [](World &w) { return sgt_iova_cache_alloc(w.cache, kPs, UINT64_MAX, nullptr); });
	add("sgt_iova_cache_alloc", "zero length", kEinval, [](World &w) {
		uint64_t a;
		return sgt_iova_cache_alloc(w.cache, 0, UINT64_MAX, &a);
	});
	add("sgt_iova_cache_alloc", "more than the space", -SGT_ENOSPC, [](World &w) {
		uint64_t a;
		return sgt_iova_cache_alloc(w.cache, UINT64_MAX, UINT64_MAX, &a);
	});
	add("sgt_iova_cache_release", "NULL cache", kEinval,
	    [](World &) { return sgt_iova_cache_release(nullptr, 0x100000, kPs); });
	add("sgt_iova_cache_release", "a range never allocated", kEinval,
	    [](World &w) { return sgt_iova_cache_release(w.cache, 0x100000, kPs); });
	add("sgt_iova_cache_release", "an address inside a granule", kEinval,
	    [](World &w) { return sgt_iova_cache_release(w.cache, 0x100001, kPs); });
	add("sgt_iova_cache_release", "zero length", kEinval,
	    [](World &w) { return sgt_iova_cache_release(w.cache, 0x100000, 0); });
	add("sgt_iova_cache_drain", "NULL cache", kNoError, [](World &) {
		sgt_iova_cache_drain(nullptr);
		return 0;
	});
	add("sgt_iova_cache_free", "NULL cache", kNoError, [](World &) {
		sgt_iova_cache_free(nullptr);
		return 0;
	});
	return all;
}

const std::vector<Case> &all_cases()
{
	static const std::vector<Case> c = cases();
	return c;
}

// Coverage builds: a child ends with _exit(), which skips the atexit handler that writes the
// profile, so it dumps it itself (merged into the profile file: coverage.sh names it with %m),
// having first cleared the counters it inherited from the parent. Both are null weak symbols in
// every other build.
extern "C" int __llvm_profile_dump(void) __attribute__((weak));
extern "C" void __llvm_profile_reset_counters(void) __attribute__((weak));

void child_start()
{
	if (__llvm_profile_reset_counters)
		__llvm_profile_reset_counters();
}

[[noreturn]] void child_exit(int code)
{
	if (__llvm_profile_dump)
		__llvm_profile_dump();
	_exit(code);
}

// Runs one case in a child: 0 = passed; otherwise the child's code or the signal that killed it.
std::string run_in_child(const Case &c)
{
	fflush(nullptr);
	pid_t pid = fork();
	if (pid == 0) {
		child_start();
		World w;
		std::string before = w.fingerprint();
		int got = c.call(w);
		if (c.want != kNoError && got != c.want) {
			fprintf(stderr, "returned %d (%s), want %d (%s)\n", got, sgt_errname(got),
				c.want, sgt_errname(c.want));
			child_exit(2);
		}
		if (c.want == kNoError && got != 0) {
			fprintf(stderr, "the harmless answer was wrong (%d)\n", got);
			child_exit(3);
		}
		if (w.fingerprint() != before) {
			fprintf(stderr, "the call changed the world\n");
			child_exit(4);
		}
		child_exit(w.teardown_clean() ? 0 : 5);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return "could not fork";
	if (WIFSIGNALED(status))
		return std::string("crashed with signal ") + std::to_string(WTERMSIG(status));
	switch (WEXITSTATUS(status)) {
	case 0:
		return "";
	case 2:
		return "wrong error code";
	case 3:
		return "wrong answer";
	case 4:
		return "changed something";
	case 5:
		return "leaked";
	default:
		return "exit " + std::to_string(WEXITSTATUS(status)) + " (a sanitizer report?)";
	}
}

class PublicApi : public ::testing::TestWithParam<size_t>
{
};

TEST_P(PublicApi, BadInputIsRefusedAndChangesNothing)
{
	const Case &c = all_cases()[GetParam()];
	EXPECT_EQ("", run_in_child(c)) << c.fn << ": " << c.what;
}

INSTANTIATE_TEST_SUITE_P(EveryFunction, PublicApi, ::testing::Range<size_t>(0, all_cases().size()),
			 [](const ::testing::TestParamInfo<size_t> &p) {
				 std::string n = std::string(all_cases()[p.param].fn) + "_" +
						 std::to_string(p.param);
				 return n;
			 });

std::string read_source(const std::string &path)
{
	std::ifstream in(std::string(SGT_SOURCE_DIR) + "/" + path);
	EXPECT_TRUE(in) << path;
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// Every function the public headers declare has at least one case above.
TEST(PublicApiTable, HasABadInputCaseForEveryFunction)
{
	const char *headers[] = { "core/include/sgt/alloc.h",
				  "core/include/sgt/copy.h",
				  "core/include/sgt/dma.h",
				  "core/include/sgt/error.h",
				  "core/include/sgt/iter.h",
				  "core/include/sgt/memory.h",
				  "core/include/sgt/platform.h",
				  "core/include/sgt/sg_table.h",
				  "core/include/sgt/table.h",
				  "core/include/sgt/user.h",
				  "backends/simiommu/include/sgt/simiommu.h",
				  "backends/iova/include/sgt/iova.h" };
	std::set<std::string> covered;
	for (const auto &c : all_cases())
		covered.insert(c.fn);
	// Functions with no bad input to give, each with the test that covers it instead.
	const std::map<std::string, const char *> exempt = {
		{ "sgt_platform_assert_fail",
		  "stops the process by design: "
		  "PlatformDeathTest.AFailedAssertionStopsInUserSpace" },
	};
	for (const auto &[fn, why] : exempt) {
		EXPECT_FALSE(covered.count(fn)) << fn << " has cases: drop its exemption";
		covered.insert(fn);
		(void)why;
	}
	std::regex decl(R"(SGT_API[^;{(]*?\b(sgt_\w+)\()");
	size_t found = 0;
	for (const char *h : headers) {
		std::string text = read_source(h);
		for (std::sregex_iterator it(text.begin(), text.end(), decl), end; it != end;
		     ++it) {
			found++;
			EXPECT_TRUE(covered.count((*it)[1]))
				<< (*it)[1] << " (" << h << ") has no case";
		}
	}
	EXPECT_GT(found, 80u) << "the header scan found too few declarations to be right";
}

// sgt.ko exports every public function of the core (sgt/user.h is the user platform's) and of the
// kernel backend, and the core's sources stay free of kernel conditionals: one set of sources for
// every platform.
TEST(PublicApiTable, TheKernelModuleExportsEveryCoreFunction)
{
	std::string exports = read_source("core/platform/kernel/module.c");
	std::regex decl(R"(SGT_API[^;{(]*?\b(sgt_\w+)\()");
	size_t n = 0;
	for (const char *h :
	     { "core/include/sgt/alloc.h", "core/include/sgt/copy.h", "core/include/sgt/dma.h",
	       "core/include/sgt/error.h", "core/include/sgt/iter.h", "core/include/sgt/memory.h",
	       "core/include/sgt/platform.h", "core/include/sgt/sg_table.h",
	       "core/include/sgt/table.h", "backends/kernel/include/sgt/kernel.h" }) {
		std::string text = read_source(h);
		for (std::sregex_iterator it(text.begin(), text.end(), decl), end; it != end;
		     ++it) {
			n++;
			EXPECT_NE(std::string::npos,
				  exports.find("EXPORT_SYMBOL(" + (*it)[1].str() + ");"))
				<< (*it)[1] << " is not exported by sgt.ko";
		}
	}
	EXPECT_GT(n, 60u);
	for (const char *src :
	     { "avl.c", "build.c", "copy.c", "dma.c", "dma_debug.c", "error.c", "fmt.c", "iter.c",
	       "resv.c", "sg_table.c", "split.c", "table.c", "internal.h", "avl.h" })
		EXPECT_EQ(std::string::npos,
			  read_source(std::string("core/src/") + src).find("__KERNEL__"))
			<< src;
}

} // namespace
