# lookout-bench: per-layer GFLOP/s against a measured FMA peak and OpenBLAS, whole-step img/s.
add_executable(lookout-bench ${CMAKE_CURRENT_SOURCE_DIR}/lookout_bench.c)
target_link_libraries(lookout-bench PRIVATE lookout_net_test lookout_kernels lookout_warnings PkgConfig::OPENBLAS OpenMP::OpenMP_C m)
target_compile_definitions(lookout-bench PRIVATE LOOKOUT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
set_target_properties(lookout-bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
