# Inference path (issue 5 item 6): libjpeg-turbo decode, scaled decode, mask PNG.
file(GLOB LO_INFER_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/infer/test_*.c)
foreach(src ${LO_INFER_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE lookout_engine lookout_warnings m)
  add_test(NAME ${name} COMMAND ${name} ${LO_SHARED_DATA})
  set_tests_properties(${name} PROPERTIES LABELS infer TIMEOUT 300)
endforeach()
