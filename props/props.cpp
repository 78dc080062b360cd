// SPDX-License-Identifier: MIT
// State-machine property test: RapidCheck generates sequences of table operations, one command
// class per operation kind (the harness's operation list, shared with the fuzzers), and every
// step runs through the C harness, which applies it to sgt and to the reference model and checks
// everything. A failure is shrunk to a short sequence and printed with the seed to replay it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <string>

#include <vector>

#include "sgt_harness.h"
#include "sgt_record.h"

namespace
{

// What the generator knows of the world: enough to propose operations that usually apply.
// The harness is the truth; an operation whose precondition no longer holds there is skipped.
struct Model {
	enum Kind { Empty, Owned, Borrowed, Mapped, BMapped };
	std::array<Kind, SGT_H_SLOTS> kind{};
	std::array<int, SGT_H_SLOTS> users{};
	std::array<int, SGT_H_SLOTS> src{};
	std::array<bool, SGT_H_SLOTS> stale{};
	bool raw_mapped = false;
};

bool any(const Model &m, std::initializer_list<Model::Kind> kinds, bool free_only = false)
{
	for (int i = 0; i < SGT_H_SLOTS; i++)
		for (auto k : kinds)
			if (m.kind[i] == k && (!free_only || m.users[i] == 0))
				return true;
	return false;
}

struct Sut {
	sgt_harness *h;
	uint32_t seed = 0;
	int applied = 0;
	int skipped = 0;
	std::vector<sgt_op> ran; // every step as it ran, for SGT_PROPS_EXPORT
};

// SGT_PROPS_EXPORT=DIR: write every sequence that passed as a fuzz input (sgt_record.h), the
// raw material of the fuzzers' seed corpora (tools/seeds.sh).
void export_sequence(const Sut &s)
{
	static const char *dir = getenv("SGT_PROPS_EXPORT");
	static unsigned count;
	if (!dir || s.ran.empty())
		return;
	std::vector<uint8_t> bytes(SGT_FUZZ_SEED_BYTES);
	sgt_fuzz_encode_seed(s.seed, bytes.data());
	for (size_t i = 0; i < s.ran.size() && i < SGT_FUZZ_MAX_OPS; i++) {
		uint8_t rec[SGT_FUZZ_RECORD];
		sgt_fuzz_encode(&s.ran[i], rec);
		bytes.insert(bytes.end(), rec, rec + SGT_FUZZ_RECORD);
	}
	std::string path = std::string(dir) + "/seq-" + std::to_string(getpid()) + "-" +
			   std::to_string(count++);
	FILE *f = fopen(path.c_str(), "wb");
	if (!f || fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
		fprintf(stderr, "sgt_props: cannot write %s\n", path.c_str());
	if (f)
		fclose(f);
}

using Cmd = rc::state::Command<Model, Sut>;

// rc::gen::inRange scales its range with the generation size: at size 40, inRange(0, 3) only
// ever gives 0, and 2 comes only at size 100. Drawn that way, the bounce device, from-device
// mappings and half of the misuses were almost never generated. Choices are drawn from their
// whole range at every size (shrinking still goes towards the minimum); only byte counts keep
// the scaling, so that early sequences stay small.
template <typename T> rc::Gen<T> choice(T min, T max)
{
	return rc::gen::resize(100, rc::gen::inRange<T>(min, max));
}

rc::Gen<uint8_t> slot_of(const Model &m, std::initializer_list<Model::Kind> kinds, bool free_only)
{
	std::vector<uint8_t> v;
	for (uint8_t i = 0; i < SGT_H_SLOTS; i++)
		for (auto k : kinds)
			if (m.kind[i] == k && (!free_only || m.users[i] == 0))
				v.push_back(i);
	if (v.empty())
		return choice<uint8_t>(0, SGT_H_SLOTS);
	return rc::gen::elementOf(v);
}

// Values drawn for any operation; each command then sets what it cares about.
sgt_op base_op(sgt_op_kind kind)
{
	sgt_op op{};
	op.kind = (uint8_t)kind;
	op.dev = *choice<uint8_t>(0, SGT_H_DEVS);
	op.dir = *choice<uint8_t>(0, 3);
	op.layout = *choice<uint8_t>(0, SGT_LAYOUT_NUM);
	op.chunk_cap = *choice<uint8_t>(0, 5);
	op.first_page = *choice<uint16_t>(0, 200);
	op.num_pages = *choice<uint16_t>(0, 16);
	op.offset = *rc::gen::oneOf(rc::gen::just<uint32_t>(0), rc::gen::inRange<uint32_t>(0, 512));
	/* Mostly valid and mappable on every device (entries of at most 1 KiB), sometimes not. */
	op.max_seg = *rc::gen::weightedElement<uint32_t>({ { 1, 0 },
							   { 1, 511 },
							   { 6, 512 },
							   { 6, 1024 },
							   { 2, 1536 },
							   { 1, 2048 },
							   { 1, UINT32_MAX } });
	op.seed = *rc::gen::arbitrary<uint32_t>();
	op.n = *choice<uint32_t>(0, 8);
	op.size = *rc::gen::inRange<uint64_t>(0, 1u << 14);
	op.skip = *rc::gen::inRange<uint64_t>(0, 4u << 10);
	op.len = *rc::gen::inRange<uint64_t>(0, 6u << 10);
	op.variant = *choice<uint8_t>(0, SGT_MISUSE_NUM);
	/* Often exactly the pages' bytes, so tables end on page boundaries and appends can merge.
	 */
	if (*rc::gen::arbitrary<bool>())
		op.size = SGT_OP_WHOLE_PAGES;
	return op;
}

struct Op : Cmd {
	sgt_op op;
	mutable sgt_op ran{}; // as the harness resolved it in the last run
	mutable bool has_run = false;
	explicit Op(sgt_op o) : op(o)
	{
	}
	// Generation skips commands the model says cannot apply (the harness would skip them).
	virtual bool pre(const Model &) const
	{
		return true;
	}
	void checkPreconditions(const Model &m) const override
	{
		RC_PRE(pre(m));
	}
	void run(const Model &, Sut &s) const override
	{
		static const bool trace = getenv("SGT_PROPS_TRACE") != nullptr;
		sgt_op o = op;
		int r = sgt_harness_apply(s.h, &o);
		ran = o;
		has_run = true;
		s.ran.push_back(o);
		if (trace) {
			char buf[256];
			sgt_op_describe(&o, buf, sizeof(buf));
			fprintf(stderr, "  %-8s %s\n",
				r == SGT_H_OK	     ? "ok"
				: r == SGT_H_SKIPPED ? "skipped"
						     : "MISMATCH",
				buf);
		}
		if (r == SGT_H_SKIPPED)
			s.skipped++;
		else
			s.applied++;
		if (r == SGT_H_MISMATCH)
			RC_FAIL(std::string(sgt_harness_why(s.h)));
	}
	void show(std::ostream &os) const override
	{
		char buf[256];
		sgt_op_describe(has_run ? &ran : &op, buf, sizeof(buf));
		os << buf;
	}
};

// ---- one command per operation ----

struct FromPages : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Empty });
	}
	explicit FromPages(const Model &m) : Op(base_op(SGT_OP_FROM_PAGES))
	{
		op.slot = *slot_of(m, { Model::Empty }, false);
	}
	void apply(Model &m) const override
	{
		sgt_op o = op;
		sgt_op_normalise(&o);
		uint64_t cap = o.num_pages * 512ull - o.offset;
		bool valid = o.max_seg >= 512 && o.size > 0 && o.size <= cap;
		if (valid && m.kind[op.slot] == Model::Empty)
			m.kind[op.slot] = Model::Owned;
	}
};

struct Append : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Owned }, true);
	}
	explicit Append(const Model &m) : Op(base_op(SGT_OP_APPEND))
	{
		op.slot = *slot_of(m, { Model::Owned }, true);
	}
	void apply(Model &) const override
	{
	}
};

struct AllocOrder : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Empty });
	}
	explicit AllocOrder(const Model &m) : Op(base_op(SGT_OP_ALLOC_ORDER))
	{
		op.slot = *slot_of(m, { Model::Empty }, false);
	}
	void apply(Model &m) const override
	{
		if (m.kind[op.slot] == Model::Empty)
			m.kind[op.slot] = Model::Owned;
	}
};

struct Split : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Owned, Model::Mapped, Model::Borrowed }) &&
		       any(m, { Model::Empty });
	}
	explicit Split(const Model &m) : Op(base_op(SGT_OP_SPLIT))
	{
		op.slot = *slot_of(m, { Model::Owned, Model::Mapped, Model::Borrowed }, false);
		op.slot2 = *slot_of(m, { Model::Empty }, false);
	}
	void apply(Model &m) const override
	{
		for (uint32_t k = 0; k < 1 + op.n % 3 && op.slot2 + k < SGT_H_SLOTS; k++)
			if (m.kind[op.slot2 + k] == Model::Empty)
				m.kind[op.slot2 + k] = Model::Owned;
	}
};

struct Borrow : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Owned }) && any(m, { Model::Empty });
	}
	explicit Borrow(const Model &m) : Op(base_op(SGT_OP_BORROW))
	{
		op.slot = *slot_of(m, { Model::Owned }, false);
		op.slot2 = *slot_of(m, { Model::Empty }, false);
	}
	void apply(Model &m) const override
	{
		if (m.kind[op.slot2] == Model::Empty && m.kind[op.slot] == Model::Owned &&
		    op.slot != op.slot2) {
			m.kind[op.slot2] = Model::Borrowed;
			m.src[op.slot2] = op.slot;
			m.users[op.slot]++;
		}
	}
};

struct Map : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Owned }, true);
	}
	explicit Map(const Model &m) : Op(base_op(SGT_OP_MAP))
	{
		op.slot = *slot_of(m, { Model::Owned }, true);
	}
	void apply(Model &m) const override
	{
		if (m.kind[op.slot] == Model::Owned && !m.users[op.slot]) {
			m.kind[op.slot] = Model::Mapped;
			m.stale[op.slot] = true;
		}
	}
};

struct WrapMapped : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Mapped }) && any(m, { Model::Empty });
	}
	explicit WrapMapped(const Model &m) : Op(base_op(SGT_OP_WRAP_MAPPED))
	{
		op.slot = *slot_of(m, { Model::Mapped }, false);
		op.slot2 = *slot_of(m, { Model::Empty }, false);
	}
	void apply(Model &m) const override
	{
		if (m.kind[op.slot2] == Model::Empty && m.kind[op.slot] == Model::Mapped &&
		    op.slot != op.slot2) {
			m.kind[op.slot2] = Model::BMapped;
			m.src[op.slot2] = op.slot;
			m.users[op.slot]++;
		}
	}
};

struct Unmap : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Mapped }, true);
	}
	explicit Unmap(const Model &m) : Op(base_op(SGT_OP_UNMAP))
	{
		op.slot = *slot_of(m, { Model::Mapped }, true);
	}
	void apply(Model &m) const override
	{
		if (m.kind[op.slot] == Model::Mapped && !m.users[op.slot]) {
			m.kind[op.slot] = Model::Owned;
			m.stale[op.slot] = true;
		}
	}
};

struct Drop : Op {
	bool pre(const Model &m) const override
	{
		return any(m, { Model::Owned, Model::Borrowed, Model::Mapped, Model::BMapped },
			   true);
	}
	explicit Drop(const Model &m) : Op(base_op(SGT_OP_DROP))
	{
		op.slot = *slot_of(
			m, { Model::Owned, Model::Borrowed, Model::Mapped, Model::BMapped }, true);
	}
	void apply(Model &m) const override
	{
		auto k = m.kind[op.slot];
		if (k == Model::Empty || m.users[op.slot])
			return;
		if (k == Model::Borrowed || k == Model::BMapped)
			m.users[m.src[op.slot]]--;
		m.kind[op.slot] = Model::Empty;
		m.stale[op.slot] = true;
	}
};

// Operations that change no slot kinds: one class, parameterised by kind and the slots it wants.
template <sgt_op_kind K> struct Plain : Op {
	bool pre(const Model &m) const override
	{
		switch (K) {
		case SGT_OP_DEV_WRITE:
		case SGT_OP_DEV_READ:
		case SGT_OP_SYNC_CPU:
		case SGT_OP_SYNC_DEV:
			return any(m, { Model::Mapped, Model::BMapped });
		case SGT_OP_STALE_USE:
			for (bool st : m.stale)
				if (st)
					return true;
			return false;
		case SGT_OP_RAW_UNMAP:
			return m.raw_mapped;
		case SGT_OP_RAW_MAP:
			return !m.raw_mapped;
		case SGT_OP_RAW_MISUSE:
		case SGT_OP_FAIL_ALLOC:
		case SGT_OP_FAIL_MAP:
		case SGT_OP_BAD_CALL:
		case SGT_OP_HUGE:
			return true;
		default:
			return any(m, { Model::Owned, Model::Borrowed, Model::Mapped,
					Model::BMapped });
		}
	}
	explicit Plain(const Model &m) : Op(base_op(K))
	{
		bool dma = K == SGT_OP_DEV_WRITE || K == SGT_OP_DEV_READ || K == SGT_OP_SYNC_CPU ||
			   K == SGT_OP_SYNC_DEV;
		op.slot = dma ? *slot_of(m, { Model::Mapped, Model::BMapped }, false)
			      : *slot_of(m,
					 { Model::Owned, Model::Borrowed, Model::Mapped,
					   Model::BMapped },
					 false);
		if (K == SGT_OP_BAD_CALL)
			op.n = *choice<uint32_t>(0, SGT_BAD_NUM);
		if (K == SGT_OP_STALE_USE) {
			std::vector<uint8_t> v;
			for (uint8_t i = 0; i < SGT_H_SLOTS; i++)
				if (m.stale[i])
					v.push_back(i);
			if (!v.empty())
				op.slot = *rc::gen::elementOf(v);
		}
	}
	void apply(Model &m) const override
	{
		if (K == SGT_OP_RAW_MAP)
			m.raw_mapped = true;
		if (K == SGT_OP_RAW_UNMAP)
			m.raw_mapped = false;
	}
};

} // namespace

RC_GTEST_PROP(Props, RandomSequencesAgreeWithTheModel, ())
{
	Model model;
	uint32_t seed = *rc::gen::arbitrary<uint32_t>();
	Sut sut{ sgt_harness_new(seed), seed, 0, 0, {} };
	if (!sut.h)
		RC_FAIL("out of memory creating the harness");
	rc::state::check(
		model, sut,
		rc::state::gen::execOneOfWithArgs<
			FromPages, FromPages, FromPages, Append, AllocOrder, Split, Borrow, Map,
			Map, Map, WrapMapped, Unmap, Drop, Plain<SGT_OP_ITERATE>,
			Plain<SGT_OP_COPY_TO>, Plain<SGT_OP_COPY_FROM>, Plain<SGT_OP_ZERO>,
			Plain<SGT_OP_DEV_WRITE>, Plain<SGT_OP_DEV_WRITE>, Plain<SGT_OP_DEV_READ>,
			Plain<SGT_OP_SYNC_CPU>, Plain<SGT_OP_SYNC_CPU>, Plain<SGT_OP_SYNC_DEV>,
			Plain<SGT_OP_STALE_USE>, Plain<SGT_OP_RAW_MAP>, Plain<SGT_OP_RAW_UNMAP>,
			Plain<SGT_OP_RAW_MISUSE>, Plain<SGT_OP_FAIL_ALLOC>, Plain<SGT_OP_FAIL_MAP>,
			Plain<SGT_OP_BAD_CALL>, Plain<SGT_OP_HUGE>>());
	int finish = sgt_harness_finish(sut.h);
	std::string why = sgt_harness_why(sut.h);
	sgt_harness_free(sut.h);
	RC_TAG(sut.applied > sut.skipped ? "mostly applied" : "mostly skipped");
	if (finish != SGT_H_OK)
		RC_FAIL("at the end: " + why);
	export_sequence(sut);
}
