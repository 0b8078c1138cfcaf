#include "lora/adapter_set.hpp"

#include "lora/lora_model.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

AdapterSet::~AdapterSet() {
  if (!active_.empty()) model_.set_linear_adapter(nullptr);
}

LoraAdapter& AdapterSet::add(const std::string& name, std::unique_ptr<LoraAdapter> adapter) {
  check(!name.empty(), "an adapter needs a non-empty name");
  check(adapter != nullptr, "adapter '", name, "' is empty");
  check(name != merged_, "adapter '", name, "' is merged into the weights: unmerge it before replacing it");
  adapter->check_fits(model_.linear_modules());
  LoraAdapter& added = *adapter;
  if (name == active_) model_.set_linear_adapter(&added);  // the old object is about to go
  adapters_[name] = std::move(adapter);
  return added;
}

LoraAdapter& AdapterSet::get(const std::string& name) {
  const auto found = adapters_.find(name);
  if (found == adapters_.end()) {
    std::string resident;
    for (const auto& entry : adapters_) resident += (resident.empty() ? "" : ", ") + entry.first;
    fail("no adapter named '", name, "' (resident: ", resident.empty() ? std::string("none") : resident, ")");
  }
  return *found->second;
}

void AdapterSet::activate(const std::string& name) {
  if (name.empty()) {
    model_.set_linear_adapter(nullptr);
    active_.clear();
    return;
  }
  LoraAdapter& adapter = get(name);
  check(name != merged_, "adapter '", name, "' is merged into the weights already: activating it too would apply it "
                         "twice");
  model_.set_linear_adapter(&adapter);
  active_ = name;
}

void AdapterSet::remove(const std::string& name) {
  get(name);
  check(name != merged_, "adapter '", name, "' is merged into the weights: unmerge it before removing it");
  if (name == active_) activate("");
  adapters_.erase(name);
}

void AdapterSet::merge(const std::string& name) {
  LoraAdapter& adapter = get(name);
  check(merged_.empty(), "adapter '", merged_, "' is merged already: unmerge it first");
  if (name == active_) activate("");
  merge_lora(model_, adapter, 1.0f);
  merged_ = name;
}

void AdapterSet::unmerge() {
  if (merged_.empty()) return;
  merge_lora(model_, get(merged_), -1.0f);
  merged_.clear();
}

std::vector<std::string> AdapterSet::names() const {
  std::vector<std::string> names;
  for (const auto& entry : adapters_) names.push_back(entry.first);
  return names;
}

}  // namespace tinylm
