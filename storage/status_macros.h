#pragma once

// Propagation helpers for absl::Status / absl::StatusOr (Debian's abseil 20220623 has none).
//
//   RETURN_IF_ERROR(DoThing());
//   ASSIGN_OR_RETURN(Service s, store.Get(tenant, id));

#define CONTEXTD_CONCAT_INNER_(a, b) a##b
#define CONTEXTD_CONCAT_(a, b) CONTEXTD_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::absl::Status contextd_status_ = (expr);            \
    if (!contextd_status_.ok()) return contextd_status_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CONTEXTD_CONCAT_(contextd_statusor_, __COUNTER__), lhs, expr)
