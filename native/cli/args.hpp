// A small flag parser for the CLI: `--name value` options and `--name` switches, each declared before use so an
// unknown or malformed flag is a usage error that names it.
#pragma once
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinylm::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // options: flags taking a value (repeatable ones keep every value); switches: flags without a value.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& options, const std::set<std::string>& switches);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string text(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> all(const std::string& name) const;  // every value of a repeatable option
  int integer(const std::string& name, int fallback) const;
  double number(const std::string& name, double fallback) const;
  // The same, range-checked: a value outside [min, max] is a UsageError naming the flag, the range and the value.
  // number_in also refuses NaN and infinities; below_max makes the upper bound exclusive ([min, max)).
  int integer_in(const std::string& name, int fallback, int min, int max) const;
  double number_in(const std::string& name, double fallback, double min, double max, bool below_max = false) const;
  bool flag(const std::string& name) const { return has(name); }

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace tinylm::cli
