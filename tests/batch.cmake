# batch-detect (issue 6 item 6): trains a small model on ../shared/data/aliens through the built
# binary, then checks batch-detect against detect-anomalies image by image, bad images, manifests,
# metrics and errors.
add_test(NAME batch_detect
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/batch/test_batch.py $<TARGET_FILE:lookout> ${LO_SHARED_DATA})
set_tests_properties(batch_detect PROPERTIES LABELS batch TIMEOUT 900 ENVIRONMENT "OMP_NUM_THREADS=2")
