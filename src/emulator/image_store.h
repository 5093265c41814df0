// lfemu's store of accepted uploads, kept under their image_id so a later
// file_id request finds them: least recently used first out, bounded by a
// byte cap. Not thread-safe: the owner (VerificationService) serialises calls.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lf {

class ImageStore {
 public:
  explicit ImageStore(std::uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Keeps `bytes` under `id` (replacing an earlier one), evicting the least
  // recently used images until the total fits the cap. An image larger than
  // the cap is not kept. Returns whether it was kept.
  bool put(const std::string& id, std::string bytes);

  // The image under `id`, marked most recently used; nullptr if unknown or
  // evicted. The bytes are shared: valid for the caller even if evicted later.
  std::shared_ptr<const std::string> get(const std::string& id);

  std::uint64_t size_bytes() const { return bytes_; }
  std::size_t count() const { return index_.size(); }
  std::uint64_t evictions() const { return evictions_; }
  std::uint64_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string id;
    std::shared_ptr<const std::string> bytes;
  };
  void erase(std::list<Entry>::iterator it);

  std::uint64_t capacity_;
  std::uint64_t bytes_ = 0;
  std::uint64_t evictions_ = 0;
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace lf
