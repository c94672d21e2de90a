# eval/ tests: hand-computed metrics and edge cases (C), agreement with scikit-learn on random score
# sets, the evaluation files validated field by field, and the report rendered in headless Chromium.
pkg_check_modules(LEV_TEST_STB REQUIRED IMPORTED_TARGET stb)
find_program(LEV_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)

add_executable(test_eval_metrics ${CMAKE_CURRENT_SOURCE_DIR}/eval/test_eval_metrics.c)
target_link_libraries(test_eval_metrics PRIVATE lookout_eval lookout_warnings m)
add_test(NAME eval_metrics COMMAND test_eval_metrics)

add_executable(eval_metrics_cli ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics_cli.c)
target_link_libraries(eval_metrics_cli PRIVATE lookout_eval lookout_warnings m)
add_test(NAME eval_metrics_vs_sklearn
         COMMAND ${LEV_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/eval/check_sklearn.py $<TARGET_FILE:eval_metrics_cli> 300)

add_executable(eval_write_fixture ${CMAKE_CURRENT_SOURCE_DIR}/eval/write_fixture.c)
target_link_libraries(eval_write_fixture PRIVATE lookout_eval lookout_warnings PkgConfig::LEV_TEST_STB m)
set(LEV_FIXTURE_DIR ${CMAKE_CURRENT_BINARY_DIR}/eval_fixture)
# A real photo (576x768 JPEG) for one thumbnail, when the shared data is there.
set(LEV_REAL_IMAGE ${LO_SHARED_DATA}/cookies/test/anomaly/test-anomaly-1.jpg)
set(LEV_REAL_FLAG --real-image)
if(NOT EXISTS ${LEV_REAL_IMAGE})
  set(LEV_REAL_IMAGE "")
  set(LEV_REAL_FLAG "")
endif()
add_test(NAME eval_files
         COMMAND sh -c "rm -rf '${LEV_FIXTURE_DIR}' && mkdir -p '${LEV_FIXTURE_DIR}' && \
'$<TARGET_FILE:eval_write_fixture>' '${LEV_FIXTURE_DIR}' ${LEV_REAL_IMAGE} && \
'${LEV_PYTHON3}' '${CMAKE_CURRENT_SOURCE_DIR}/eval/validate_files.py' '${LEV_FIXTURE_DIR}' ${LEV_REAL_FLAG}")
set_tests_properties(eval_files PROPERTIES FIXTURES_SETUP eval_fixture)

# Headless Chromium screenshot of the report (Debian `chromium`, in the Makefile's PKGS_TEST);
# skipped (exit 77) where Chromium is not installed.
add_test(NAME eval_report_renders
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/eval/render_report.sh
                 ${LEV_FIXTURE_DIR}/out/EvaluationReport-seg-2.html ${LEV_FIXTURE_DIR}/report.png)
set_tests_properties(eval_report_renders PROPERTIES FIXTURES_REQUIRED eval_fixture SKIP_RETURN_CODE 77)
