# Notifications (lib/notify): the pure payloads and signature, and the notifier end to end with
# the engine and a real HTTPS receiver on loopback.
if(TARGET containd_notify)
  containd_add_test(notify_test
    SOURCES unit/notify/notification_test.cpp
    DEPS containd::notify)
  containd_add_test(notifier_test
    SOURCES integration/notify/notifier_test.cpp
    DEPS containd::notify containd::engine containd_test_https
    LABEL integration)
endif()
