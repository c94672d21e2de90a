# engine/train tests: the model file, threshold rules, synthetic defects, and an end-to-end run on
# the generated demo dataset (minimums, training, detect agreeing with the run, reproducibility),
# and the mirror views scores are averaged over.
foreach(name test_train_model_file test_train_threshold test_train_synth test_train_run test_train_orientation
    test_train_fit test_train_views test_train_member)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/train/${name}.c)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/train)
  target_link_libraries(${name} PRIVATE lookout_engine lookout_warnings m)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS train TIMEOUT 300)
endforeach()
