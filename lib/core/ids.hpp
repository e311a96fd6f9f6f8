#pragma once
// Identifiers: random UUIDs (incident ids, simulated object ids) and their validation.

#include <string>
#include <string_view>

namespace containd {

// A random (version 4) UUID in lower-case canonical form, from the OS CSPRNG.
std::string random_uuid();

// True for the canonical 8-4-4-4-12 hexadecimal form (either case).
bool is_guid(std::string_view text);

}  // namespace containd
