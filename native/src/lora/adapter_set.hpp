// AdapterSet: several LoRA adapters resident beside one base model, at most one active — attached, so forward,
// evaluation and step() include its terms — or none (the bare base), chosen before each call without reloading the
// base. One adapter at a time may instead be merged into the base weights (W += scale·B·A): generation then costs
// nothing extra, and unmerge() takes it out again (up to float rounding).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lora/lora_adapter.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

class AdapterSet {
 public:
  explicit AdapterSet(TrainableModel& model) : model_(model) {}  // the model must outlive the set
  ~AdapterSet();                                                   // detaches the active adapter
  AdapterSet(const AdapterSet&) = delete;
  AdapterSet& operator=(const AdapterSet&) = delete;

  // Adds (or replaces) `name`; Error unless the adapter fits the model's linears. Does not activate it.
  LoraAdapter& add(const std::string& name, std::unique_ptr<LoraAdapter> adapter);
  // Attaches `name`, or detaches every adapter for "" (the bare base). Error names the resident adapters.
  void activate(const std::string& name);
  const std::string& active() const { return active_; }
  // Drops `name` (the bare base if it was active). Error for the merged adapter: unmerge it first.
  void remove(const std::string& name);
  // Folds `name` into the base weights (detaching it if active); Error while another is merged.
  void merge(const std::string& name);
  void unmerge();  // takes the merged adapter back out of the weights; nothing if none is merged
  const std::string& merged() const { return merged_; }

  LoraAdapter& get(const std::string& name);  // Error naming the resident adapters when absent
  bool contains(const std::string& name) const { return adapters_.count(name) > 0; }
  std::vector<std::string> names() const;

 private:
  TrainableModel& model_;
  std::map<std::string, std::unique_ptr<LoraAdapter>> adapters_;
  std::string active_, merged_;
};

}  // namespace tinylm
