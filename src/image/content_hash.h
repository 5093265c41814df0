// The content hash of an image: SHA-256 (OpenSSL) as 64 lowercase hex
// digits. It names identical content: the runner verifies each distinct
// hash once (jobs.content_hash), lfemu's call log says what it was sent.
#pragma once

#include <string>
#include <string_view>

namespace lf {

// SHA-256 of `bytes` in lowercase hex (64 characters). Pure; thread-safe.
std::string sha256_hex(std::string_view bytes);

}  // namespace lf
