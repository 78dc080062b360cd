// SPDX-License-Identifier: MIT
// Paired timing: a baseline and a subject measured in alternation, round after round, so that a
// slow spell of this shared machine hits both alike. The ratio reported is the median of the
// per-round ratios, which drift between separate benchmark runs does not move.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

struct PairedResult {
	double base_ns; // median time of one baseline run
	double subject_ns; // median time of one subject run
	double ratio; // median over the rounds of subject time / baseline time
};

inline double median_of(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs @fn(rep) for rep in [0, reps) and gives the time per run in ns.
template <class Fn> double time_per_run(Fn &&fn, int reps)
{
	auto t0 = std::chrono::steady_clock::now();
	for (int r = 0; r < reps; r++)
		fn(r);
	auto t1 = std::chrono::steady_clock::now();
	return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count() / reps;
}

// @after(), if given, runs untimed after each subject round (to free what it built).
template <class Base, class Subject, class After>
PairedResult paired(Base &&base, Subject &&subject, After &&after, int rounds, int reps)
{
	std::vector<double> tb, ts, r;
	for (int i = 0; i < rounds; i++) {
		double b, s;
		if (i % 2) {
			s = time_per_run(subject, reps);
			after();
			b = time_per_run(base, reps);
		} else {
			b = time_per_run(base, reps);
			s = time_per_run(subject, reps);
			after();
		}
		tb.push_back(b);
		ts.push_back(s);
		r.push_back(s / b);
	}
	return { median_of(tb), median_of(ts), median_of(r) };
}
