# tests/http.cmake — `lookout serve` and `lookout create-access-key` (engine/http).
# The AWS CLI / boto3 tests need Debian's awscli and python3-boto3 (make deps-test installs them).
set(LO_BOTOCORE_LV_MODEL /usr/lib/python3/dist-packages/botocore/data/lookoutvision/2020-11-20/service-2.json)
set(LO_HTTP_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/http)

add_executable(test_http_unit ${LO_HTTP_TESTS}/test_http_unit.c)
target_link_libraries(test_http_unit PRIVATE lookout_engine lookout_warnings)
add_test(NAME http_unit COMMAND test_http_unit ${LO_BOTOCORE_LV_MODEL})

# Fast: projects, tags, error classes, authentication and per-key actions with /usr/bin/aws.
add_test(NAME http_aws_cli COMMAND /usr/bin/python3 ${LO_HTTP_TESTS}/test_aws_cli.py $<TARGET_FILE:lookout>)
# Raw HTTP: unsigned/expired/tampered requests, body limits, slow clients, concurrency.
add_test(NAME http_robustness COMMAND /usr/bin/python3 ${LO_HTTP_TESTS}/test_robustness.py $<TARGET_FILE:lookout>)
# The whole flow (train, host, detect) with /usr/bin/aws, and again with boto3 (+ restart re-hosting).
add_test(NAME http_aws_cli_flow
         COMMAND /usr/bin/python3 ${LO_HTTP_TESTS}/test_aws_cli_flow.py $<TARGET_FILE:lookout> ${LO_SHARED_DATA})
add_test(NAME http_boto3_flow
         COMMAND /usr/bin/python3 ${LO_HTTP_TESTS}/test_boto3_flow.py $<TARGET_FILE:lookout> ${LO_SHARED_DATA})
set_tests_properties(http_aws_cli http_robustness PROPERTIES TIMEOUT 300)
set_tests_properties(http_aws_cli_flow http_boto3_flow PROPERTIES TIMEOUT 1800 LABELS slow)
