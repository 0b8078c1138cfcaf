#include "tinylm/rng.hpp"

#include <cmath>

namespace tinylm {

float Rng::normal() {
  // Box-Muller; 1 - uniform() lies in (0, 1], so the log is finite.
  const float u1 = 1.0f - uniform();
  const float u2 = uniform();
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853071795864f * u2);
}

}  // namespace tinylm
