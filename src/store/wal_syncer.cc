// The WAL syncer thread.
#include "store/wal_syncer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace lf {

WalSyncer::WalSyncer(std::string db_path, std::function<void(const std::string&)> on_error)
    : wal_path_(std::move(db_path) + "-wal"), on_error_(std::move(on_error)) {
  thread_ = std::thread([this] { loop(); });
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // SQLite takes no lock on the WAL file, so closing this descriptor drops
  // none of its locks.
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t WalSyncer::committed() {
  std::lock_guard lock(mu_);
  const std::uint64_t number = ++committed_;
  cv_.notify_all();
  return number;
}

std::uint64_t WalSyncer::synced_through() const {
  std::lock_guard lock(mu_);
  return synced_;
}

std::uint64_t WalSyncer::fsyncs() const {
  std::lock_guard lock(mu_);
  return fsyncs_;
}

void WalSyncer::wait_synced(std::uint64_t number) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return synced_ >= number; });
}

bool WalSyncer::sync_wal() {
  struct stat by_name {};
  if (::stat(wal_path_.c_str(), &by_name) != 0) return errno == ENOENT;  // nothing to sync
  if (fd_ < 0 || static_cast<std::uint64_t>(by_name.st_ino) != fd_inode_) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return false;
    fd_inode_ = static_cast<std::uint64_t>(by_name.st_ino);
  }
  const bool ok = ::fdatasync(fd_) == 0;
  const int error = errno;  // for the caller's message
  {
    std::lock_guard lock(mu_);
    ++fsyncs_;
  }
  errno = error;
  return ok;
}

void WalSyncer::loop() {
  pthread_setname_np(pthread_self(), "lfbatch-sync");
  bool warned = false;
  for (;;) {
    std::uint64_t target = 0;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || committed_ > synced_; });
      target = committed_;
      stopping = stopping_;
    }
    if (target > synced_through()) {
      if (!sync_wal() && !warned) {
        if (on_error_) {
          on_error_("cannot fsync " + wal_path_ + ": " + std::strerror(errno) +
                    "; results are durable against a power loss only from the next checkpoint");
        }
        warned = true;
      }
      std::lock_guard lock(mu_);
      synced_ = target;
    }
    cv_.notify_all();
    if (stopping) {
      std::lock_guard lock(mu_);
      if (committed_ <= synced_) return;
    }
  }
}

}  // namespace lf
