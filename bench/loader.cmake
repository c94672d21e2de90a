# Training loader vs kernels (issue 4 Speed): step time with and without batch building.
add_executable(train_loader ${CMAKE_CURRENT_SOURCE_DIR}/train_loader.c)
target_link_libraries(train_loader PRIVATE lookout_engine lookout_warnings m)
target_compile_definitions(train_loader PRIVATE LO_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
set_target_properties(train_loader PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
