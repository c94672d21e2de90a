# Service tests: C programs driving lo_service_call against a temporary LOOKOUT_HOME. The worker
# binary is the built lookout (its `__worker` command), passed as LOOKOUT_WORKER_BIN.
file(GLOB LO_SVC_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/service/test_*.c)
foreach(src ${LO_SVC_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/service)
  target_link_libraries(${name} PRIVATE lookout_engine lookout_warnings)
  add_test(NAME ${name} COMMAND ${name} ${LO_SHARED_DATA})
  set_tests_properties(${name} PROPERTIES LABELS service TIMEOUT 600
    ENVIRONMENT "LOOKOUT_WORKER_BIN=$<TARGET_FILE:lookout>;OMP_NUM_THREADS=2")
endforeach()
# Real data and real training take minutes: out of the sanitizer run and the quick loop.
if(TEST test_service_cookies)
  set_tests_properties(test_service_cookies PROPERTIES LABELS "service;slow" TIMEOUT 1800)
endif()
if(TEST test_service_worker_kill)
  set_tests_properties(test_service_worker_kill PROPERTIES LABELS "service;slow" TIMEOUT 1800)
endif()
