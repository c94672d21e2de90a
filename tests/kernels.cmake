# Tests of kernels/ and engine/net (the executor is compiled in directly so these tests do not wait
# on the rest of engine/ building).
file(GLOB LK_NET_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/engine/net/*.c)
add_library(lookout_net_test STATIC ${LK_NET_SOURCES})
target_include_directories(lookout_net_test PUBLIC ${PROJECT_SOURCE_DIR}/engine/net)
target_link_libraries(lookout_net_test PRIVATE lookout_warnings PUBLIC lookout_kernels PkgConfig::CJSON OpenMP::OpenMP_C m)

add_executable(test_conv_paths ${CMAKE_CURRENT_SOURCE_DIR}/kernels/test_conv_paths.c)
target_link_libraries(test_conv_paths PRIVATE lookout_kernels lookout_warnings m)
add_test(NAME kernels_conv_paths COMMAND test_conv_paths)
set_tests_properties(kernels_conv_paths PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=passive")

add_executable(test_upsample ${CMAKE_CURRENT_SOURCE_DIR}/kernels/test_upsample.c)
target_link_libraries(test_upsample PRIVATE lookout_kernels lookout_warnings m)
add_test(NAME kernels_upsample COMMAND test_upsample)
set_tests_properties(kernels_upsample PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=passive")

add_executable(test_net_grad ${CMAKE_CURRENT_SOURCE_DIR}/net/test_net_grad.c)
target_link_libraries(test_net_grad PRIVATE lookout_net_test lookout_warnings m)
foreach(path ref blas avx2 avx512)
  add_test(NAME net_grad_${path} COMMAND test_net_grad)
  set_tests_properties(net_grad_${path} PROPERTIES ENVIRONMENT "LOOKOUT_KERNELS=${path};OMP_WAIT_POLICY=passive")
endforeach()

if(NOT LOOKOUT_SANITIZE)
  add_executable(test_net_alloc ${CMAKE_CURRENT_SOURCE_DIR}/net/test_net_alloc.c)
  target_link_libraries(test_net_alloc PRIVATE lookout_net_test lookout_warnings)
  # Not the blas path: OpenBLAS's threaded sgemm mallocs inside each call (measured: 16 a step).
  foreach(path ref avx2 avx512)
    add_test(NAME net_alloc_${path} COMMAND test_net_alloc)
    set_tests_properties(net_alloc_${path} PROPERTIES ENVIRONMENT "LOOKOUT_KERNELS=${path};OMP_WAIT_POLICY=passive")
  endforeach()
endif()

add_executable(test_net_errors ${CMAKE_CURRENT_SOURCE_DIR}/net/test_net_errors.c)
target_link_libraries(test_net_errors PRIVATE lookout_net_test lookout_warnings)
add_test(NAME net_errors COMMAND test_net_errors)
