// lfemu's downloader for file_url requests: one plain-HTTP GET with a single
// deadline over resolve, connect, write and read. Beast stays in the .cc.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "emulator/verification_service.h"

namespace lf {

// Fetches request.url (http:// only). Never throws: kTimeout when the
// deadline passes, kTooBig over request.max_bytes, kError (with why) for
// anything else, including a status other than 200 and, unless
// request.allow_remote, a host that resolves to no loopback address.
boost::asio::awaitable<DownloadResult> fetch_url(DownloadRequest request);

}  // namespace lf
