containd_add_test(report_test
  SOURCES unit/report/report_test.cpp
  DEPS containd::report containd::verify
  LABEL unit)
