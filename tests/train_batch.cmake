# The training batch builder: the batches for a seed are exactly those the recipe was tuned on
# (hashes recorded from the builder before its speed work; see the test's header).
add_executable(test_batch_identity ${CMAKE_CURRENT_SOURCE_DIR}/train/test_batch_identity.c)
target_include_directories(test_batch_identity PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/train)
target_link_libraries(test_batch_identity PRIVATE lookout_engine lookout_warnings m)
target_compile_definitions(test_batch_identity PRIVATE LO_SHARED_DATA="${LO_SHARED_DATA}")
add_test(NAME test_batch_identity COMMAND test_batch_identity)
set_tests_properties(test_batch_identity PROPERTIES LABELS train TIMEOUT 300)
# the same hashes from the scalar loops (what a CPU without AVX-512 runs)
add_test(NAME test_batch_identity_scalar COMMAND test_batch_identity)
set_tests_properties(test_batch_identity_scalar PROPERTIES LABELS train TIMEOUT 300 ENVIRONMENT "LOOKOUT_KERNELS=ref")
