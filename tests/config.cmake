containd_add_test(config_test SOURCES unit/config/config_test.cpp DEPS containd::config)
