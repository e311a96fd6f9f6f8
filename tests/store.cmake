containd_add_test(store_test
  SOURCES unit/store/store_test.cpp
  DEPS containd::store containd::engine)
