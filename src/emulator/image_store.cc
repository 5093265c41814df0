// Bounded LRU of uploaded images.
#include "emulator/image_store.h"

namespace lf {

bool ImageStore::put(const std::string& id, std::string bytes) {
  if (auto it = index_.find(id); it != index_.end()) erase(it->second);
  if (bytes.size() > capacity_) return false;
  while (!lru_.empty() && bytes_ + bytes.size() > capacity_) {
    erase(std::prev(lru_.end()));
    ++evictions_;
  }
  bytes_ += bytes.size();
  lru_.push_front(Entry{id, std::make_shared<const std::string>(std::move(bytes))});
  index_[id] = lru_.begin();
  return true;
}

std::shared_ptr<const std::string> ImageStore::get(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->bytes;
}

void ImageStore::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes->size();
  index_.erase(it->id);
  lru_.erase(it);
}

}  // namespace lf
