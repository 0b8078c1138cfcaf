#include "args.hpp"

#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <cstdio>

namespace tinylm::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& options,
           const std::set<std::string>& switches) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    const std::string name = arg.substr(2);
    if (switches.count(name)) {
      values_[name].push_back("1");
    } else if (options.count(name)) {
      if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
      values_[name].push_back(argv[++i]);
    } else {
      throw UsageError("unknown flag --" + name);
    }
  }
}

std::string Args::text(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int Args::integer(const std::string& name, int fallback) const {
  if (!has(name)) return fallback;
  const std::string value = text(name, "");
  char* end = nullptr;
  const long parsed = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < INT32_MIN || parsed > INT32_MAX)
    throw UsageError("--" + name + " expects an integer, got '" + value + "'");
  return static_cast<int>(parsed);
}

double Args::number(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string value = text(name, "");
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') throw UsageError("--" + name + " expects a number, got '" + value + "'");
  return parsed;
}

int Args::integer_in(const std::string& name, int fallback, int min, int max) const {
  const int value = integer(name, fallback);
  if (value < min || value > max) {
    throw UsageError("--" + name + " must be " +
                     (max == INT32_MAX ? "at least " + std::to_string(min)
                                       : "between " + std::to_string(min) + " and " + std::to_string(max)) +
                     ", got " + std::to_string(value));
  }
  return value;
}

double Args::number_in(const std::string& name, double fallback, double min, double max, bool below_max) const {
  const double value = number(name, fallback);
  const bool in_range = std::isfinite(value) && value >= min && (below_max ? value < max : value <= max);
  if (!in_range) {
    char range[96];
    if (std::isinf(max)) std::snprintf(range, sizeof range, "a finite number ≥ %g", min);
    else std::snprintf(range, sizeof range, "in [%g, %g%s", min, max, below_max ? ")" : "]");
    throw UsageError("--" + name + " must be " + range + ", got " + text(name, ""));
  }
  return value;
}

}  // namespace tinylm::cli
