# bench/http.cmake — load benchmark of `lookout serve` (200 detect-anomalies, 8 concurrent
# clients, p50/p99). Run with no arguments it sets up its own server and model.
add_executable(http_load ${CMAKE_CURRENT_SOURCE_DIR}/http_load.c)
target_link_libraries(http_load PRIVATE lookout_engine lookout_warnings Threads::Threads)
target_compile_definitions(http_load PRIVATE LO_LOOKOUT_BIN="$<TARGET_FILE:lookout>"
                                             LO_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data")
set_target_properties(http_load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
