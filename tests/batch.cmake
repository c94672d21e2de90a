# batch-detect (issue 6 item 6), through the built binary. batch_detect trains a small model on
# ../shared/data/aliens and checks batch-detect against detect-anomalies image by image, bad images,
# manifests, metrics and errors (over a minute with training: slow); batch_detect_errors is the
# part that needs no trained model (usage/service errors), quick enough for the sanitizer run.
add_test(NAME batch_detect
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/batch/test_batch.py full $<TARGET_FILE:lookout> ${LO_SHARED_DATA})
set_tests_properties(batch_detect PROPERTIES LABELS "batch;slow" TIMEOUT 1800 ENVIRONMENT "OMP_NUM_THREADS=2")
add_test(NAME batch_detect_errors
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/batch/test_batch.py quick $<TARGET_FILE:lookout> ${LO_SHARED_DATA})
set_tests_properties(batch_detect_errors PROPERTIES LABELS batch TIMEOUT 300 ENVIRONMENT "OMP_NUM_THREADS=2")
