// CityHash64 as ClickHouse's cityHash64() computes it: CityHash v1.0.2, which ClickHouse froze when it
// exposed the function (later CityHash versions, 1.0.3 and 1.1, hash differently; so does farmHash64).
// ch-insert's shard-direct mode routes each row by it exactly as a Distributed table sharded by
// cityHash64(column) does, so a row lands on the shard the Distributed table would have chosen.
#pragma once
#include <cstdint>
#include <string_view>

namespace sp::codec {

// CityHash64 v1.0.2 of the bytes of s (ClickHouse: SELECT cityHash64(s) for one String argument).
uint64_t city_hash64_v102(std::string_view s);

}  // namespace sp::codec
