// PostgreSQL connection URLs as lfbatch shows them: never with a password.
// The URL (postgresql://[user[:password]@][host][:port][/database][?k=v&...])
// is parsed by libpq; these functions only find where a password may sit in
// it, by libpq's own rules, so that messages and names can leave it out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lf {

// True when `text` starts with "postgresql://" or "postgres://" (the
// prefixes libpq takes as a URL; the case matters, as it does to libpq).
bool is_postgresql_url(std::string_view text);

// `url` without its password: the ":password" of the user part (libpq
// takes the user part to end at the first '@' before any '/') and every
// password= and sslpassword= query parameter are dropped; the rest is kept
// as written. REQUIRES: is_postgresql_url(url).
std::string url_without_password(std::string_view url);

// Every spelling of a secret that `url` may carry, as written and
// percent-decoded: what redact() removes from a name or a message. Besides
// the password where libpq finds it, what a mistyped URL may hold as one:
// a '/' in an unencoded password ends libpq's user part early
// ("u:se/cret@h/db" reads as host u, port se, database cret@h/db), so the
// span from the first ':' after "//" to an '@' libpq took as part of the
// database name counts as a password too; when libpq could not parse the
// URL at all (`parsed` false), to any '@'. An '@' in a query value
// (?user=a@b) is never taken for the end of a password.
std::vector<std::string> url_secrets(std::string_view url, bool parsed);

// `text` with every occurrence of each non-empty secret replaced by "***",
// longest secrets first.
std::string redact(std::string text, std::vector<std::string> secrets);

// `message` (libpq's, about `url`) with each "quoted" piece that holds part
// of a secret replaced by "***": libpq quotes the piece of the URL it could
// not read, which may be a piece of a mistyped password. A piece holds part
// of a secret when it is inside one or one of its occurrences in `url`
// overlaps one of a secret's.
std::string redact_quoted(std::string message, std::string_view url,
                          const std::vector<std::string>& secrets);

}  // namespace lf
