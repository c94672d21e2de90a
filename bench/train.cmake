# Training accuracy benchmark (issue 5): `make bench-accuracy` runs bench/accuracy.sh.
add_executable(accuracy ${CMAKE_CURRENT_SOURCE_DIR}/accuracy.c ${CMAKE_CURRENT_SOURCE_DIR}/accuracy_protocol.c)
target_link_libraries(accuracy PRIVATE lookout_engine lookout_warnings)
target_compile_definitions(accuracy PRIVATE LO_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
set_target_properties(accuracy PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
