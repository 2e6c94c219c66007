#pragma once

#include "common/status.h"
#include "store/sqlite_conn.h"

namespace stoke::store {

// The schema version this binary writes. Bump it by appending a migration step in schema.cc.
inline constexpr int kSchemaVersion = 2;

// Brings the database to kSchemaVersion: reads schema_version (0 for a new file), then
// applies the missing steps in order inside one IMMEDIATE transaction, so a failed
// migration leaves the file as it was. A database newer than this binary is
// kFailedPrecondition (never downgraded or touched).
// REQUIRES: `conn` is the only writer at this moment (called from Store::Open).
Status MigrateSchema(SqliteConn& conn);

// Reads the stored version (0 when the schema_version table does not exist yet).
Result<int> ReadSchemaVersion(SqliteConn& conn);

}  // namespace stoke::store
