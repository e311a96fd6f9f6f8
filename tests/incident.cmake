containd_add_test(incident_test
  SOURCES unit/incident/submission_test.cpp unit/incident/plan_test.cpp
  DEPS containd::incident)
