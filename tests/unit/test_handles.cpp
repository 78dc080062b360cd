// SPDX-License-Identifier: MIT
// Handles: ownership, stale handles after drop, borrowed tables, and the invariant check.
#include "helpers.hpp"

#include <set>

using namespace sgt_test;

namespace {

class Handles : public SgtTest {
};

// Every call that takes a CPU view, with its result on a given handle. Whatever a call creates
// on success is released again, so the list can run on live handles too.
std::vector<std::pair<std::string, int>> every_cpu_call(const sgt_cpu *t)
{
	uint8_t buf[8];
	size_t n;
	uint32_t num;
	uint64_t len = 1;
	const sgt_sg_table *sgt;
	sgt_ent_iter ei;
	sgt_page_iter pi;
	sgt_miter m;
	sgt_table out{};
	std::vector<std::pair<std::string, int>> r = {
		{ "cpu_check", sgt_cpu_check(t) },
		{ "cpu_sg_table", sgt_cpu_sg_table(t, &sgt) },
		{ "cpu_info", sgt_cpu_info(t, &num, &len) },
		{ "nents_for_len", sgt_nents_for_len(t, 1, &num) },
		{ "ent_iter_init", sgt_ent_iter_init(&ei, t) },
		{ "page_iter_init", sgt_page_iter_init(&pi, t, 0) },
		{ "miter_start", sgt_miter_start(&m, t, 0) },
		{ "copy_to_buffer", sgt_copy_to_buffer(t, 0, buf, sizeof(buf), &n) },
		{ "copy_from_buffer", sgt_copy_from_buffer(t, 0, buf, sizeof(buf), &n) },
		{ "zero", sgt_zero(t, 0, 1, &n) },
		{ "split", sgt_split(t, 0, 1, &len, nullptr, &out, SGT_MAY_SLEEP) },
	};
	if (r[6].second == 0)
		sgt_miter_stop(&m);
	sgt_table_cleanup(&out);
	return r;
}

TEST_F(Handles, DroppedTableIsStaleForEveryCall)
{
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000 }, 0, kPs));
	sgt_table_cleanup(&t);
	for (auto &[name, err] : every_cpu_call(&t.cpu))
		EXPECT_EQ(-SGT_ESTALE, err) << name;
	EXPECT_EQ(-SGT_ESTALE, append(&t, { 0x1001 }, 0, kPs));
	sgt_table_cleanup(&t); // dropping twice is a no-op
	sgt_table_cleanup(nullptr);
}

TEST_F(Handles, UninitialisedHandleIsInvalid)
{
	sgt_table zeroed{};
	for (auto &[name, err] : every_cpu_call(&zeroed.cpu))
		EXPECT_EQ(-SGT_EINVAL, err) << name;
	EXPECT_EQ(-SGT_EINVAL, append(&zeroed, { 0x1000 }, 0, kPs));
	sgt_table_cleanup(&zeroed);
	sgt_table garbage;
	memset(&garbage, 0xa5, sizeof(garbage));
	EXPECT_EQ(-SGT_EINVAL, sgt_cpu_check(&garbage.cpu));
	EXPECT_EQ(-SGT_EINVAL, sgt_cpu_check(nullptr));
}

TEST_F(Handles, LiveHandleAnswersEveryCall)
{
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000 }, 0, kPs));
	for (auto &[name, err] : every_cpu_call(&t.cpu))
		EXPECT_EQ(0, err) << name;
	sgt_table_cleanup(&t);
}

// A raw table built by hand, as another subsystem would: two chunks in its own storage.
struct HandBuilt {
	static constexpr size_t kChunk = sizeof(sgt_chunk) + 2 * sizeof(sgt_entry);
	alignas(sgt_chunk) unsigned char abuf[kChunk] = {};
	alignas(sgt_chunk) unsigned char bbuf[kChunk] = {};
	sgt_chunk *a = sgt_chunk_init(abuf, 2);
	sgt_chunk *b = sgt_chunk_init(bbuf, 2);
	sgt_sg_table sgt{};
	HandBuilt(const HandBuilt &) = delete;
	explicit HandBuilt(const sgt_memory *mem)
	{
		a->num_ents = 2;
		a->next = b;
		b->num_ents = 1;
		a->ents[0] = { 0x1000, 10, 100, 0, 0, 0 };
		a->ents[1] = { 0x1004, 0, 5000, 0, 0, 0 };
		b->ents[0] = { 0x1010, 4095, 1, 0, 0, 0 };
		sgt = { a, b, mem, 5101, 3, 0, 0, nullptr, nullptr };
	}
};

TEST_F(Handles, BorrowedTableIteratesAndNeverFrees)
{
	HandBuilt hb(&mem_.mem);
	sgt_borrowed b;
	ASSERT_EQ(0, sgt_borrowed_init(&b, &hb.sgt));
	EXPECT_EQ((std::vector<Ent>{ { 0x1000, 10, 100 }, { 0x1004, 0, 5000 }, { 0x1010, 4095, 1 } }),
		  entries(&b.cpu));
	uint8_t x = 0x5a;
	size_t n;
	ASSERT_EQ(0, sgt_copy_from_buffer(&b.cpu, 5100, &x, 1, &n));
	EXPECT_EQ(0x5a, *sgt_test_mem_byte(&mem_, 0x1010, 4095));
	sgt_borrowed_cleanup(&b);
	EXPECT_EQ(-SGT_ESTALE, sgt_cpu_check(&b.cpu));
	sgt_borrowed_cleanup(&b);
	EXPECT_EQ(0, sgt_sg_table_check(&hb.sgt, nullptr)) << "the owner's table is untouched";
	EXPECT_EQ(0u, alloc_.num_frees);
}

TEST_F(Handles, BorrowingAnOwnedTableSharesItsEntries)
{
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002 }, 0, 2 * kPs));
	const sgt_sg_table *raw;
	ASSERT_EQ(0, sgt_cpu_sg_table(&t.cpu, &raw));
	sgt_borrowed b;
	ASSERT_EQ(0, sgt_borrowed_init(&b, raw));
	EXPECT_EQ(entries(&t.cpu), entries(&b.cpu));
	sgt_borrowed_cleanup(&b);
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu));
	sgt_table_cleanup(&t);
}

// Each broken invariant is named by the check and refused by sgt_borrowed_init().
TEST_F(Handles, EveryBrokenInvariantIsRefused)
{
	const std::vector<std::pair<std::string, void (*)(HandBuilt &)>> breakages = {
		{ "(1)", [](HandBuilt &h) { h.sgt.mem = nullptr; } },
		{ "(2)", [](HandBuilt &h) { h.sgt.tail = nullptr; } },
		{ "(3) not full", [](HandBuilt &h) { h.a->num_ents = 1; h.sgt.num_cpu_ents = 2;
						      h.sgt.total_len = 101; } },
		{ "(3) count", [](HandBuilt &h) { h.sgt.num_cpu_ents = 4; } },
		{ "(3) cycle", [](HandBuilt &h) { h.b->next = h.a; } },
		{ "(3) over capacity", [](HandBuilt &h) { h.b->num_ents = 3; } },
		{ "(4) zero len", [](HandBuilt &h) { h.a->ents[0].len = 0; h.sgt.total_len -= 100; } },
		{ "(4) offset", [](HandBuilt &h) { h.a->ents[0].offset = 4096; } },
		{ "(4) past last frame", [](HandBuilt &h) { h.b->ents[0].pfn = (UINT64_C(1) << 52) - 1;
							     h.b->ents[0].len = 2; h.sgt.total_len++; } },
		{ "(5) total", [](HandBuilt &h) { h.sgt.total_len++; } },
		{ "(6) dma count", [](HandBuilt &h) { h.sgt.num_dma_ents = 4; } },
		{ "(6) stray dma", [](HandBuilt &h) { h.b->ents[0].dma_len = 1; } },
		{ "(6) dma sum", [](HandBuilt &h) { h.sgt.num_dma_ents = 1; h.a->ents[0].dma_len = 1; } },
		{ "(6) dma wrap", [](HandBuilt &h) {
			  h.sgt.num_dma_ents = 1;
			  h.a->ents[0].dma_len = 5101;
			  h.a->ents[0].dma_addr = UINT64_MAX - 100;
		  } },
		{ "(7)", [](HandBuilt &h) { h.a->ents[1].reserved = 1; } },
		{ "(2) head without tail", [](HandBuilt &h) { h.sgt.tail = nullptr; h.sgt.num_cpu_ents = 0; } },
		{ "(1) no domain, a tail", [](HandBuilt &h) {
			  h.sgt.mem = nullptr;
			  h.sgt.head = nullptr;
		  } },
		{ "(1) no domain, a count", [](HandBuilt &h) {
			  h.sgt.mem = nullptr;
			  h.sgt.head = h.sgt.tail = nullptr;
		  } },
		{ "(5) empty with a length", [](HandBuilt &h) {
			  h.sgt.head = h.sgt.tail = nullptr;
			  h.sgt.num_cpu_ents = 0;
		  } },
		{ "(5) empty with DMA state", [](HandBuilt &h) {
			  h.sgt.head = h.sgt.tail = nullptr;
			  h.sgt.num_cpu_ents = 0;
			  h.sgt.total_len = 0;
			  h.sgt.dma_dir = 1;
		  } },
		{ "(3) capacity zero", [](HandBuilt &h) { h.a->capacity = 0; } },
		{ "(3) chunk without its entries", [](HandBuilt &h) { h.b->ents = nullptr; } },
		{ "(3) more than counted", [](HandBuilt &h) { h.sgt.num_cpu_ents = 2; } },
		{ "(4) frame past the domain", [](HandBuilt &h) { h.b->ents[0].pfn = UINT64_C(1) << 52; } },
		{ "(6) unmapped with a device", [](HandBuilt &h) {
			  h.sgt.dma_dev = reinterpret_cast<sgt_device *>(&h);
		  } },
		{ "(6) mapped slot of length 0", [](HandBuilt &h) { h.sgt.num_dma_ents = 1; } },
		{ "(6) stray dma address", [](HandBuilt &h) { h.b->ents[0].dma_addr = 0x1000; } },
	};
	{
		HandBuilt ok(&mem_.mem);
		ASSERT_EQ(0, sgt_sg_table_check(&ok.sgt, nullptr)) << "the unbroken table is valid";
		ok.sgt.num_dma_ents = 1;
		ok.a->ents[0].dma_len = 5101;
		ok.a->ents[0].dma_addr = 0x8000;
		ASSERT_EQ(0, sgt_sg_table_check(&ok.sgt, nullptr)) << "a merged mapping is valid";
	}
	for (auto &[name, brk] : breakages) {
		HandBuilt h(&mem_.mem);
		brk(h);
		const char *why = nullptr;
		EXPECT_EQ(-SGT_EINVAL, sgt_sg_table_check(&h.sgt, &why)) << name;
		ASSERT_NE(nullptr, why) << name;
		EXPECT_EQ(0, strncmp(why, name.c_str(), 3)) << name << ": " << why;
		sgt_borrowed b;
		b.cpu.sgt__state = 0;
		EXPECT_EQ(-SGT_EINVAL, sgt_borrowed_init(&b, &h.sgt)) << name;
		EXPECT_EQ(0u, b.cpu.sgt__state) << "not written on failure";
	}
	EXPECT_EQ(-SGT_EINVAL, sgt_borrowed_init(nullptr, nullptr));
}

// A handle is its storage: a copy made by value is not a second owner. It is refused by every
// call, and dropping it frees nothing (under ASan a double free would show).
TEST_F(Handles, AHandleCopiedByValueIsNotALiveHandle)
{
	sgt_table t;
	ASSERT_EQ(0, from_pages(&t, { 0x1000, 0x1002 }, 0, 2 * kPs));
	sgt_table copy;
	memcpy(&copy, &t, sizeof(t));
	EXPECT_EQ(-SGT_EINVAL, sgt_cpu_check(&copy.cpu));
	EXPECT_EQ(-SGT_EINVAL, append(&copy, { 0x1010 }, 0, kPs));
	sgt_table_cleanup(&copy);
	EXPECT_EQ(2u, sgt_test_alloc_live(&alloc_) + 1) << "the copy's drop freed nothing";
	EXPECT_EQ(0, sgt_cpu_check(&t.cpu)) << "the original is untouched";
	sgt_table_cleanup(&t);
}

TEST_F(Handles, SplitRefusesAnOutputThatOverlapsItsInput)
{
	sgt_table t[3];
	ASSERT_EQ(0, from_pages(&t[0], { 0x1000, 0x1002 }, 0, 2 * kPs));
	const uint64_t lens[2] = { kPs, kPs };
	Snapshot before = snapshot(&t[0].cpu);
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&t[0].cpu, 0, 2, lens, &params_, t, SGT_MAY_SLEEP))
		<< "into itself";
	sgt_borrowed view;
	const sgt_sg_table *raw;
	ASSERT_EQ(0, sgt_cpu_sg_table(&t[0].cpu, &raw));
	ASSERT_EQ(0, sgt_borrowed_init(&view, raw));
	EXPECT_EQ(-SGT_EINVAL, sgt_split(&view.cpu, 0, 1, lens, &params_, t, SGT_MAY_SLEEP))
		<< "through a view of the table it would overwrite";
	EXPECT_EQ(before, snapshot(&t[0].cpu));
	ASSERT_EQ(0, sgt_split(&view.cpu, 0, 2, lens, &params_, &t[1], SGT_MAY_SLEEP)) << "disjoint";
	sgt_borrowed_cleanup(&view);
	for (auto &x : t)
		sgt_table_cleanup(&x);
}

// A corrupt chain that loops back, claiming 2^32 - 1 entries, is named at once instead of walked
// four billion times (it used to take 26 s).
TEST_F(Handles, ACyclicChainIsFoundWithoutWalkingItsClaimedLength)
{
	HandBuilt hb(&mem_.mem);
	// a -> b -> a -> ..., with the tail a third chunk the walk never reaches: every chunk it
	// sees is full and not the tail, so only the cycle check can stop it.
	HandBuilt other(&mem_.mem);
	hb.a->num_ents = hb.a->capacity = 1;
	hb.b->num_ents = hb.b->capacity = 1;
	hb.b->next = hb.a;
	hb.sgt.tail = other.b;
	hb.sgt.num_cpu_ents = UINT32_MAX;
	const char *why = nullptr;
	EXPECT_EQ(-SGT_EINVAL, sgt_sg_table_check(&hb.sgt, &why));
	ASSERT_NE(nullptr, why);
	EXPECT_NE(nullptr, strstr(why, "cycle")) << why;
	sgt_borrowed b;
	EXPECT_EQ(-SGT_EINVAL, sgt_borrowed_init(&b, &hb.sgt));
}

// Zero-filled storage is not a table; SGT_TABLE_INIT() is, without a call.
TEST_F(Handles, ZeroFilledStorageIsRefused)
{
	sgt_table z;
	memset(&z, 0, sizeof(z));
	EXPECT_EQ(-SGT_EINVAL, sgt_cpu_check(&z.cpu));
	EXPECT_EQ(-SGT_EINVAL, append(&z, { 0x1000 }, 0, kPs));
	sgt_table_cleanup(&z); // a no-op
	EXPECT_EQ(0u, sgt_test_alloc_live(&alloc_));
}

sgt_table g_static_table = SGT_TABLE_INIT(g_static_table);

TEST(TableInit, AnEmptyTableWithoutACallTakesThePlatformDefaultsWhenItGrows)
{
	sgt_table t = SGT_TABLE_INIT(t);
	for (sgt_table *x : { &t, &g_static_table }) {
		EXPECT_EQ(0, sgt_cpu_check(&x->cpu));
		uint32_t n = 9;
		uint64_t len = 9;
		ASSERT_EQ(0, sgt_cpu_info(&x->cpu, &n, &len));
		EXPECT_EQ(0u, n);
		EXPECT_EQ(0u, len);
		// Every walk over it is empty, before it has a memory domain.
		sgt_ent_iter ei;
		ASSERT_EQ(0, sgt_ent_iter_init(&ei, &x->cpu));
		EXPECT_FALSE(sgt_ent_iter_next(&ei));
		sgt_page_iter pi;
		ASSERT_EQ(0, sgt_page_iter_init(&pi, &x->cpu, 0));
		EXPECT_FALSE(sgt_page_iter_next(&pi));
		sgt_miter mi;
		ASSERT_EQ(0, sgt_miter_start(&mi, &x->cpu, 0));
		EXPECT_FALSE(sgt_miter_next(&mi));
		sgt_miter_stop(&mi);
		uint8_t buf[8];
		size_t copied = 1;
		EXPECT_EQ(0, sgt_copy_to_buffer(&x->cpu, 0, buf, 8, &copied));
		EXPECT_EQ(0u, copied);
		const sgt_sg_table *raw;
		ASSERT_EQ(0, sgt_cpu_sg_table(&x->cpu, &raw));
		EXPECT_EQ(0, sgt_sg_table_check(raw, nullptr));
	}
	// It grows with the user platform's defaults: real memory, 4 KiB frames.
	std::vector<uint8_t> mem(3 * 4096);
	uint64_t first = ((uint64_t)(uintptr_t)mem.data() + 4095) >> 12;
	uint64_t pfns[] = { first, first + 1 };
	sgt_pages p;
	sgt_pages_from_array(&p, pfns, 2);
	ASSERT_EQ(0, sgt_table_append_pages(&t, &p, 0, 2 * 4096, SGT_MAX_SEGMENT_UNLIMITED,
					    SGT_MAY_SLEEP));
	const uint8_t src[4] = { 1, 2, 3, 4 };
	size_t copied = 0;
	ASSERT_EQ(0, sgt_copy_from_buffer(&t.cpu, 4096, src, 4, &copied));
	EXPECT_EQ(0, memcmp(mem.data() + (first << 12) - (uintptr_t)mem.data() + 4096, src, 4));
	uint32_t n = 0;
	ASSERT_EQ(0, sgt_cpu_info(&t.cpu, &n, nullptr));
	EXPECT_EQ(1u, n) << "two consecutive frames, one entry";
	sgt_table_cleanup(&t);
	sgt_table_cleanup(&g_static_table);
}

TEST(Errors, EveryCodeHasANameAndText)
{
	const int codes[] = { 0, SGT_EIO, SGT_E2BIG, SGT_ENOMEM, SGT_EFAULT, SGT_EBUSY, SGT_EINVAL,
			      SGT_ENOSPC, SGT_ERANGE, SGT_EOVERFLOW, SGT_EOPNOTSUPP, SGT_ESTALE };
	std::set<std::string> texts;
	for (int c : codes) {
		EXPECT_STRNE("unknown error", sgt_strerror(-c)) << c;
		EXPECT_STRNE("-E?", sgt_errname(-c)) << c;
		texts.insert(sgt_strerror(-c));
	}
	EXPECT_EQ(sizeof(codes) / sizeof(codes[0]), texts.size()) << "texts are distinct";
	EXPECT_STREQ("-ESTALE", sgt_errname(-SGT_ESTALE));
	EXPECT_STREQ("unknown error", sgt_strerror(-9999));
	EXPECT_STREQ("unknown error", sgt_strerror(INT32_MIN));
}

} // namespace
