# CLI tests: the parts on their own (test_cli_units), the same parts against awscli/botocore
# themselves (test_reference.py), the built binary driven as a user would (test_cli.py), and the
# end-to-end flows of issue 2 on the demo dataset and on ../shared/data/cookies (test_flow.py, slow).
set(LO_CLI_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/cli)

add_executable(test_cli_units ${LO_CLI_TESTS}/test_cli_units.c)
target_link_libraries(test_cli_units PRIVATE lookout_engine lookout_warnings)
add_test(NAME cli_units COMMAND test_cli_units)
set_tests_properties(cli_units PROPERTIES LABELS cli)

add_test(NAME cli_reference
  COMMAND /usr/bin/python3 ${LO_CLI_TESTS}/test_reference.py $<TARGET_FILE:test_cli_units> $<TARGET_FILE:lookout>)
set_tests_properties(cli_reference PROPERTIES LABELS cli TIMEOUT 300)

add_test(NAME cli_commands COMMAND /usr/bin/python3 ${LO_CLI_TESTS}/test_cli.py $<TARGET_FILE:lookout>)
set_tests_properties(cli_commands PROPERTIES LABELS cli TIMEOUT 600 ENVIRONMENT "OMP_NUM_THREADS=2")

add_test(NAME cli_flow_demo COMMAND /usr/bin/python3 ${LO_CLI_TESTS}/test_flow.py demo $<TARGET_FILE:lookout>)
set_tests_properties(cli_flow_demo PROPERTIES LABELS "cli;slow" TIMEOUT 3600 ENVIRONMENT "OMP_NUM_THREADS=2")
add_test(NAME cli_flow_cookies
  COMMAND /usr/bin/python3 ${LO_CLI_TESTS}/test_flow.py cookies $<TARGET_FILE:lookout> ${LO_SHARED_DATA}/cookies)
set_tests_properties(cli_flow_cookies PROPERTIES LABELS "cli;slow" TIMEOUT 3600 ENVIRONMENT "OMP_NUM_THREADS=2")
