#pragma once
// Temporary passwords: 24 characters from the CSPRNG, at least 6 of them non-alphanumeric, every
// character class present (Entra's complexity rules), one unique password per account.

#include <string>

namespace containd::runners {

inline constexpr std::size_t temporary_password_length = 24;
inline constexpr std::size_t temporary_password_symbols = 6;

std::string generate_temporary_password();

}  // namespace containd::runners
