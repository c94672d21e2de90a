# Training accuracy benchmark (issue 5): `make bench-accuracy` runs bench/accuracy.sh.
add_executable(accuracy ${CMAKE_CURRENT_SOURCE_DIR}/accuracy.c ${CMAKE_CURRENT_SOURCE_DIR}/accuracy_protocol.c)
target_link_libraries(accuracy PRIVATE lookout_engine lookout_warnings)
target_compile_definitions(accuracy PRIVATE LO_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
set_target_properties(accuracy PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)

# detect-anomalies latency for one 576x768 JPEG (issue 5 item 6)
add_executable(infer_speed ${CMAKE_CURRENT_SOURCE_DIR}/infer_speed.c)
target_link_libraries(infer_speed PRIVATE lookout_engine lookout_warnings)
target_compile_definitions(infer_speed PRIVATE LO_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
set_target_properties(infer_speed PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
# What each member of a trained ensemble contributes (recipe work): build/bench/member_scores MODEL FOLDER
add_executable(member_scores ${CMAKE_CURRENT_SOURCE_DIR}/member_scores.c)
target_link_libraries(member_scores PRIVATE lookout_engine lookout_eval lookout_warnings)
set_target_properties(member_scores PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
