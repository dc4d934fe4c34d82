#pragma once
// result<T>: a value or a std::error_code, never an exception on the I/O path.
#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <system_error>

#include "torsion/core/error.hpp"

namespace torsion {

namespace outcome = boost::outcome_v2;

template <class T>
using result = outcome::result<T, std::error_code, outcome::policy::terminate>;

using outcome::success;

// Build a failed result from any error-code-convertible value.
inline auto failure(std::error_code ec) { return outcome::failure(ec); }
inline auto failure(errc e) { return outcome::failure(make_error_code(e)); }

}  // namespace torsion

#define TORSION_TRY BOOST_OUTCOME_TRY
#define TORSION_CO_TRY BOOST_OUTCOME_CO_TRY
