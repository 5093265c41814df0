// SQL text in SQLite's spelling of parameters (?1, ?2, ...) made PostgreSQL's
// ($1, $2, ...): what lets the report queries and the queue be written once
// for both stores (sql_session.h).
#pragma once

#include <string>
#include <string_view>

namespace lf {

// Returns `sql` with every ?N (a '?' followed by digits) that is SQL rather
// than data written $N. Left as they are:
//   - string constants: '...' ('' inside), E'...' (backslash escapes too; the
//     E not part of a longer word), and dollar-quoted $tag$...$tag$ bodies
//     ($$ or a tag that is an identifier without '$', not following an
//     identifier character: a$b$ is one name);
//   - quoted identifiers "..." ("" inside);
//   - comments: -- to the end of the line, /* ... */ (nested, as PostgreSQL
//     nests them);
//   - a '?' without digits after it (PostgreSQL's jsonb operators ? ?| ?&).
// Assumes standard_conforming_strings = on (PostgreSQL's default since 9.1):
// a backslash in '...' is an ordinary character. Unterminated quotes or
// comments are copied to the end unchanged; the server reports them.
// Pure; linear in the length of `sql`.
std::string rewrite_placeholders(std::string_view sql);

}  // namespace lf
