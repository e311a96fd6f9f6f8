containd_add_test(verify_test SOURCES unit/verify/verify_test.cpp DEPS containd::verify)
