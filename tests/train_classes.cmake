# Per-class segmentation (issue 5): a manifest with two defect colours trains a class head, and
# detect-anomalies names each defect pixel's class; a one-class dataset keeps the two-output net.
add_executable(test_train_classes ${CMAKE_CURRENT_SOURCE_DIR}/train/test_train_classes.c)
target_include_directories(test_train_classes PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/train)
target_link_libraries(test_train_classes PRIVATE lookout_engine lookout_warnings m)
add_test(NAME test_train_classes COMMAND test_train_classes)
set_tests_properties(test_train_classes PROPERTIES LABELS train TIMEOUT 300)
