# Key store, encryption at rest, disk full and the memory guard (issue 8 items 2 and 4).
# test_kms_envelope: the dataset layer's envelopes alone. kms_cli_quick / kms_cli_train: the key
# commands and create-model --kms-key-id end to end through the built binary on a small synthetic
# dataset (short LOOKOUT_TRAIN_TIME_BUDGET); _train with an LD_PRELOAD shim that makes the
# worker's writes fail with ENOSPC for the disk-full cases.
add_executable(test_kms_envelope ${CMAKE_CURRENT_SOURCE_DIR}/kms/test_kms_envelope.c)
target_include_directories(test_kms_envelope PRIVATE ${PROJECT_SOURCE_DIR}/dataset)
target_link_libraries(test_kms_envelope PRIVATE lookout_dataset lookout_warnings)
add_test(NAME test_kms_envelope COMMAND test_kms_envelope)
set_tests_properties(test_kms_envelope PROPERTIES LABELS kms TIMEOUT 120)

add_executable(kms_gen_data ${CMAKE_CURRENT_SOURCE_DIR}/kms/kms_gen_data.c)
target_link_libraries(kms_gen_data PRIVATE lookout_dataset lookout_warnings)
# The shim is preloaded into sanitized binaries too: no sanitizer flags of its own.
add_library(kms_enospc_shim MODULE ${CMAKE_CURRENT_SOURCE_DIR}/kms/enospc_shim.c)
target_link_libraries(kms_enospc_shim PRIVATE lookout_warnings ${CMAKE_DL_LIBS})
set_target_properties(kms_enospc_shim PROPERTIES PREFIX "" COMPILE_OPTIONS "-fno-sanitize=all" LINK_OPTIONS "-fno-sanitize=all")
foreach(mode quick train)
  add_test(NAME kms_cli_${mode}
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/kms/test_kms.py ${mode} $<TARGET_FILE:lookout>
            $<TARGET_FILE:kms_gen_data> $<TARGET_FILE:kms_enospc_shim>)
  set_tests_properties(kms_cli_${mode} PROPERTIES LABELS kms TIMEOUT 900 ENVIRONMENT "OMP_NUM_THREADS=2")
endforeach()
# Real trainings: ~20 s in a release build, minutes at -O0 with sanitizers (out of that run).
set_tests_properties(kms_cli_train PROPERTIES LABELS "kms;slow")
