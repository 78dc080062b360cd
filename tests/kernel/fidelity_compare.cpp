// SPDX-License-Identifier: MIT
/*
 * The host's half of the fidelity comparison: the segment lists that the real kernel produced for
 * the cases of fidelity_cases.c (SGT-FID lines of a VM's console, see edu_fidelity.c) against the
 * simulated IOMMU's for the same cases in the matching mode.
 *
 * usage: sgt_fidelity_compare MODE=LOG ...      MODE: iommu, direct or swiotlb
 * Exit status 0 when every case agrees (or differs only as docs/backends.md documents).
 *
 * What is compared, per mode:
 *   iommu, direct: the segment count, each segment's length and its offset from the first
 *                  segment, and the first segment's offset in its page;
 *   swiotlb:       the count and the lengths; where the kernel places its slots depends on what
 *                  the pool held before (other drivers' mappings), which no model can know, so
 *                  offsets are compared only within a slot (the address modulo 2 KiB).
 * A case the kernel refused must break the caller's contract (an entry over the maximum segment
 * or across the boundary, computed here from the case); those are counted, not compared.
 */
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fidelity_cases.h"
#include "sgt/simiommu.h"
#include "sgt/sgt.h"
#include "sgt_testkit.h"

namespace
{

constexpr unsigned kShift = 12;
constexpr uint64_t kPs = 1u << kShift;
constexpr uint64_t kPoolPfn = 0x8000; // 128 MiB: aligned to the pool, under edu's 28-bit mask

struct Seg {
	uint64_t len, rel;
};

struct Result {
	bool refused = false;
	uint64_t first = 0;
	std::vector<Seg> segs;
};

bool parse_line(const std::string &text, std::map<uint32_t, Result> &out);

bool parse_log(const char *path, std::map<uint32_t, Result> &out)
{
	std::ifstream in(path);
	if (!in)
		return false;
	std::string line;
	while (std::getline(in, line)) {
		size_t at = line.find("SGT-FID ");
		if (at == std::string::npos || line[0] == '#')
			continue;
		if (!parse_line(line.substr(at + 8), out))
			return false;
	}
	return true;
}

// One line's "<case> ok <first> <n> <len>:<rel> ..." or "<case> refused <err>".
bool parse_line(const std::string &text, std::map<uint32_t, Result> &out)
{
	try {
		std::istringstream ss(text);
		uint32_t id;
		std::string status;
		ss >> id >> status;
		Result r;
		if (status == "refused") {
			r.refused = true;
		} else if (status == "ok") {
			std::string first;
			unsigned n;
			ss >> first >> n;
			r.first = std::stoull(first, nullptr, 16);
			for (unsigned i = 0; i < n; i++) {
				std::string tok;
				ss >> tok;
				size_t colon = tok.find(':');
				if (colon == std::string::npos)
					return false;
				r.segs.push_back(
					{ std::stoull(tok.substr(0, colon), nullptr, 16),
					  std::stoull(tok.substr(colon + 1), nullptr, 16) });
			}
		} else {
			return false;
		}
		if (!ss || out.count(id))
			return false;
		out[id] = r;
	} catch (const std::exception &) {
		return false;
	}
	return true;
}

// The caller's contract, computed from the table's entries (not with any sgt check).
bool breaks_contract(const sgt_sg_table *raw, const sgt_fid_case &c)
{
	uint64_t mask = c.seg_boundary;
	for (const sgt_chunk *ch = raw->head; ch; ch = ch->next)
		for (uint32_t i = 0; i < ch->num_ents; i++) {
			const sgt_entry &e = ch->ents[i];
			uint64_t a = (e.pfn << kShift) + e.offset, last = a + e.len - 1;
			if (e.len > c.max_segment || (a & ~mask) != (last & ~mask))
				return true;
		}
	return false;
}

struct Sim {
	sgt_test_mem mem{};
	Sim()
	{
		sgt_test_mem_init(&mem, kShift, kPoolPfn, SGT_FID_POOL_PAGES);
	}
	~Sim()
	{
		sgt_test_mem_cleanup(&mem);
	}
};

// Build the case's table exactly as the VM does (edu_table()) and map it in @mode.
int sim_map(Sim &s, sgt_simiommu_mode mode, const sgt_fid_case &c, bool *contract_broken,
	    Result *out)
{
	sgt_table_params tp{};
	tp.mem = &s.mem.mem;
	sgt_table t;
	int err = sgt_table_init(&t, &tp);
	for (uint32_t i = 0; i < c.num_runs && !err; i++) {
		const sgt_fid_run &r = c.runs[i];
		uint64_t pages = (r.offset + r.len + kPs - 1) / kPs, pfns[SGT_FID_POOL_PAGES];
		for (uint64_t k = 0; k < pages; k++)
			pfns[k] = kPoolPfn + r.first_page + k;
		sgt_pages pg;
		sgt_pages_from_array(&pg, pfns, pages);
		err = sgt_table_append_pages(&t, &pg, r.offset, r.len, c.max_segment,
					     SGT_MAY_SLEEP);
	}
	if (err)
		return err;
	const sgt_sg_table *raw;
	if (sgt_cpu_sg_table(&t.cpu, &raw))
		return -1;
	*contract_broken = breaks_contract(raw, c);

	sgt_simiommu_params p{};
	p.mode = mode;
	p.mem = &s.mem.mem;
	p.device.dma_mask = SGT_FID_DMA_MASK;
	p.device.max_segment_size = c.max_segment;
	p.device.seg_boundary_mask = c.seg_boundary;
	sgt_simiommu *sim;
	err = sgt_simiommu_new(&p, &sim);
	if (err) {
		sgt_table_cleanup(&t);
		return err;
	}
	sgt_mapping m;
	err = sgt_table_map(&t, sgt_simiommu_device(sim), (sgt_dma_dir)c.dir, 0, &m, SGT_MAY_SLEEP);
	if (!err) {
		sgt_dma_iter it;
		err = sgt_dma_iter_init(&it, &m.dma);
		while (!err && sgt_dma_iter_next(&it)) {
			if (!it.index)
				out->first = it.dma_addr;
			out->segs.push_back({ it.dma_len, it.dma_addr - out->first });
		}
		sgt_mapping_cleanup(&m);
	} else {
		out->refused = true;
		sgt_table_cleanup(&t);
	}
	sgt_simiommu_free(sim);
	return 0;
}

std::string describe(const Result &r)
{
	if (r.refused)
		return "refused";
	std::ostringstream o;
	o << "first 0x" << std::hex << r.first << ", " << std::dec << r.segs.size() << ":";
	for (const Seg &s : r.segs)
		o << std::hex << " 0x" << s.len << "@+0x" << s.rel;
	return o.str();
}

// The first difference between the kernel's and the simulator's result, or "".
std::string differ(const std::string &mode, const Result &k, const Result &s)
{
	if (s.refused)
		return "the simulator refused a table the kernel mapped";
	if (k.segs.size() != s.segs.size())
		return "segment count";
	bool swiotlb = mode == "swiotlb";
	uint64_t in = swiotlb ? 2048 : kPs; // the unit whose offsets both sides must agree on
	if ((k.first & (in - 1)) != (s.first & (in - 1)))
		return "first segment's offset";
	for (size_t i = 0; i < k.segs.size(); i++) {
		if (k.segs[i].len != s.segs[i].len)
			return "length of segment " + std::to_string(i);
		if (!swiotlb && k.segs[i].rel != s.segs[i].rel)
			return "offset of segment " + std::to_string(i);
		if (swiotlb && ((k.first + k.segs[i].rel) & (in - 1)) !=
				       ((s.first + s.segs[i].rel) & (in - 1)))
			return "slot offset of segment " + std::to_string(i);
	}
	return "";
}

int compare(const std::string &mode, const std::map<uint32_t, Result> &kernel)
{
	sgt_simiommu_mode sm = mode == "iommu"	  ? SGT_SIMIOMMU_IOMMU
			       : mode == "direct" ? SGT_SIMIOMMU_DIRECT
						  : SGT_SIMIOMMU_BOUNCE;
	unsigned compared = 0, refused = 0, differences = 0, shown = 0;
	for (uint32_t id = 0; id < SGT_FID_NUM_CASES; id++) {
		sgt_fid_case c;
		sgt_fid_case_get(id, kShift, &c);
		auto it = kernel.find(id);
		Sim s;
		Result sim;
		bool broken = false;
		std::string why;
		if (it == kernel.end())
			why = "no result from the VM";
		else if (sim_map(s, sm, c, &broken, &sim))
			why = "the host could not build or map the case";
		else if (it->second.refused)
			why = broken ? ""
				     : "the kernel backend refused a table that keeps the contract";
		else if (broken)
			why = "the kernel backend mapped a table that breaks the contract";
		else
			why = differ(mode, it->second, sim);
		if (it != kernel.end() && it->second.refused && broken)
			refused++;
		else if (why.empty())
			compared++;
		if (why.empty())
			continue;
		differences++;
		if (shown++ < 8) {
			printf("  %s case %u: %s\n", mode.c_str(), id, why.c_str());
			if (it != kernel.end())
				printf("    kernel:    %s\n", describe(it->second).c_str());
			printf("    simulator: %s\n", describe(sim).c_str());
		}
	}
	printf("  fidelity %-8s %u cases agree, %u refused by the contract on both sides, "
	       "%u differ\n",
	       mode.c_str(), compared, refused, differences);
	return differences ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	int status = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s MODE=LOG ...  (MODE: iommu, direct, swiotlb)\n",
			argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		std::string mode = eq ? std::string(argv[i], eq - argv[i]) : "";
		std::map<uint32_t, Result> kernel;
		if (mode != "iommu" && mode != "direct" && mode != "swiotlb") {
			fprintf(stderr, "sgt_fidelity_compare: bad argument %s\n", argv[i]);
			return 2;
		}
		if (!parse_log(eq + 1, kernel)) {
			fprintf(stderr, "sgt_fidelity_compare: cannot read %s\n", eq + 1);
			return 2;
		}
		status |= compare(mode, kernel);
	}
	return status;
}
