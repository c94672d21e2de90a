# Fuzz harnesses: every tests/fuzz/fuzz_*.c becomes its own libFuzzer executable when
# -DLOOKOUT_FUZZ=ON (clang only). The libraries are instrumented for coverage too, so the fuzzer
# sees inside them. `make fuzz` runs them with tests/fuzz/run.sh.
if(LOOKOUT_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LOOKOUT_FUZZ needs clang (CC=clang cmake ...), not ${CMAKE_C_COMPILER_ID}")
  endif()
  # Coverage instrumentation in the libraries; every executable linking them (tests, benches,
  # lookout itself) then needs the sanitizer runtimes, which also provide the coverage hooks.
  foreach(lib lookout_kernels lookout_dataset lookout_eval lookout_engine)
    if(TARGET ${lib})
      set_property(TARGET ${lib} APPEND PROPERTY COMPILE_OPTIONS
                   -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
      set_property(TARGET ${lib} APPEND PROPERTY INTERFACE_LINK_OPTIONS -fsanitize=address,undefined)
    endif()
  endforeach()
  file(GLOB LO_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(src ${LO_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE ${STB_INCLUDE_DIR})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE lookout_engine lookout_warnings)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  endforeach()
endif()
