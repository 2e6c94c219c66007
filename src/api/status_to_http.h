#pragma once

#include <string>

#include "common/status.h"

namespace stoke::api {

// The one place where Status codes become HTTP statuses (docs/api.md "Errors").
int HttpStatusFor(const Status& status);

// {"error":{"code":"invalid_argument","message":"...","field":"..."}}
std::string ErrorBody(const Status& status);

}  // namespace stoke::api
