# Dataset tests: sources, validation, pixels, split, augmentation, synthetic defects, demo data.
# Each tests/dataset/test_*.c is one program run with the shared data dir. The import of
# magnetic_tile (1344 images, both sources) is its own case, labelled slow: under the sanitizers
# it takes minutes; the other datasets cover the same code there.
file(GLOB LDS_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/dataset/test_*.c)
foreach(src ${LDS_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/dataset)
  target_link_libraries(${name} PRIVATE lookout_dataset lookout_warnings)
  if(name STREQUAL "test_dataset_import")
    add_test(NAME test_dataset_import COMMAND ${name} ${LO_SHARED_DATA} small)
    add_test(NAME test_dataset_import_magnetic_tile COMMAND ${name} ${LO_SHARED_DATA} large)
    set_tests_properties(test_dataset_import PROPERTIES LABELS dataset TIMEOUT 600)
    set_tests_properties(test_dataset_import_magnetic_tile PROPERTIES LABELS "dataset;slow" TIMEOUT 900)
  else()
    add_test(NAME ${name} COMMAND ${name} ${LO_SHARED_DATA})
    set_tests_properties(${name} PROPERTIES LABELS dataset TIMEOUT 600)
  endif()
endforeach()
