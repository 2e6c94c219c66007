#pragma once

#include <string>

#include "common/job.h"

namespace stoke::service {

// Who is calling: a user (maybe admin), or a job acting through its own scoped token.
struct Principal {
  std::string user;
  bool admin = false;
  JobId job_scope = 0;  // non-zero: the token belongs to this job and reaches only it

  bool CanSee(const Job& job) const {
    if (job_scope != 0) return job.id == job_scope;
    return admin || job.user == user;
  }
};

}  // namespace stoke::service
