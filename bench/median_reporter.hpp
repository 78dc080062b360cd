// SPDX-License-Identifier: MIT
// A console reporter that also keeps the median of every benchmark, for the summaries at the end.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

class MedianReporter : public benchmark::ConsoleReporter {
    public:
	struct Row {
		double real_ns;
		std::string label;
		benchmark::UserCounters counters;
	};
	std::map<std::string, Row> median;
	std::vector<std::string> order;

	void ReportRuns(const std::vector<Run> &runs) override
	{
		ConsoleReporter::ReportRuns(runs);
		for (const Run &r : runs) {
			bool single = r.repetitions <= 1 && r.run_type == Run::RT_Iteration;
			if (r.aggregate_name != "median" && !single)
				continue;
			std::string name = r.run_name.function_name + "/" + r.run_name.args;
			if (!median.count(name))
				order.push_back(name);
			median[name] = { r.GetAdjustedRealTime() * to_ns(r.time_unit), r.report_label,
					 r.counters };
		}
	}
	double counter(const std::string &name, const char *c) const
	{
		auto it = median.find(name);
		if (it == median.end() || !it->second.counters.count(c))
			return 0;
		return it->second.counters.at(c).value;
	}

    private:
	static double to_ns(benchmark::TimeUnit u)
	{
		switch (u) {
		case benchmark::kNanosecond: return 1;
		case benchmark::kMicrosecond: return 1e3;
		case benchmark::kMillisecond: return 1e6;
		default: return 1e9;
		}
	}
};

// The main() of a benchmark program whose reporter prints a summary at the end.
template <class Reporter> int run_benchmarks(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	Reporter reporter;
	benchmark::RunSpecifiedBenchmarks(&reporter);
	reporter.summary();
	benchmark::Shutdown();
	return 0;
}
