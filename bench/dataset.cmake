# Dataset speed (issue 4): import + decode of whole datasets, and decode + resize throughput of
# the cookies JPEGs next to stb_image's own decode rate. `make bench` runs them.
foreach(b dataset_import dataset_decode)
  add_executable(${b} ${CMAKE_CURRENT_SOURCE_DIR}/${b}.c)
  target_link_libraries(${b} PRIVATE lookout_dataset lookout_warnings OpenMP::OpenMP_C m)
  target_include_directories(${b} PRIVATE ${STB_INCLUDE_DIR})
  target_compile_definitions(${b} PRIVATE LDS_BENCH_DATA="${PROJECT_SOURCE_DIR}/../shared/data")
  set_target_properties(${b} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endforeach()

# dataset/image_io.c decodes JPEGs with libjpeg-turbo and writes mask PNGs with zlib. The link
# belongs in dataset/CMakeLists.txt (owned by the dataset area); it is attached here until it moves.
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
target_link_libraries(lookout_dataset PUBLIC PkgConfig::JPEG PkgConfig::ZLIB)
